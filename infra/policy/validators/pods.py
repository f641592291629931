"""Pods and the objects that make them: images, security contexts, host access, replicas, budgets, labels."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from infra.policy.exceptions import host_path_excused, root_excused
from infra.policy.validators.common import (
    DEPLOYMENT,
    PDB,
    REGISTRY_BINDING,
    REPOSITORY,
    Report,
    ResourceArgs,
    StackArgs,
    _kind,
    _patch,
    dig,
)
from infra.policy.validators.values import UNREADABLE, value_leaves, value_mappings, value_trees

RECOMMENDED_LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/part-of", "app.kubernetes.io/managed-by")

# Every kind whose objects carry a pod template, and where: a path of keys to the pod spec.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
# Kinds whose pods run for good (probes expected), not to completion.
LONG_RUNNING = frozenset({"Deployment", "ReplicaSet", "ReplicationController", "StatefulSet", "DaemonSet"})
HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")


def _pod(args: ResourceArgs) -> Mapping[str, Any]:
    """The pod spec of any pod-bearing object, whatever its kind or API version; {} for any other."""
    path = POD_SPEC_PATHS.get(_kind(args.resource_type))
    node: Any = args.props if path else None
    for key in path or ():
        node = node.get(key) if isinstance(node, Mapping) else None
    return node if isinstance(node, Mapping) else {}


def _containers(pod: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    yield from pod.get("initContainers") or []
    yield from pod.get("containers") or []
    yield from pod.get("ephemeralContainers") or []


def _images(args: ResourceArgs) -> Iterator[tuple[str, str]]:
    """(where, image reference) of every container of a pod-bearing object and of Helm values."""
    for container in _containers(_pod(args)):
        yield f"container '{container.get('name')}'", str(container.get("image", ""))
    for path, mapping in value_mappings(args):
        image = mapping.get("image")
        if isinstance(image, str) and "/" in image:
            yield path + ".image", image
        elif isinstance(image, Mapping) and isinstance(image.get("repository"), str):
            repository = "/".join(str(part) for part in (image.get("registry"), image["repository"]) if part)
            if image.get("digest"):
                yield path + ".image", f"{repository}@{image['digest']}"
            elif image.get("tag") not in (None, ""):
                yield path + ".image", f"{repository}:{image['tag']}"


CR_YANDEX = re.compile(r"^cr\.yandex/([a-z0-9]+)/")


def _registry_problem(image: str, config: Mapping[str, Any]) -> str | None:
    allowed = tuple(config.get("allowedRegistries", ["cr.yandex/"]))
    if not image.startswith(allowed):
        return f"pulls from outside the allowed registries ({', '.join(allowed)}); push the image there"
    own = [str(i) for i in config.get("registryIds") or []]
    match = CR_YANDEX.match(image)
    if own and match and match[1] not in own:
        return "pulls from another registry than this stack's own (cr.yandex/<its id>/); push the image there"
    return None


def images_by_digest(args: ResourceArgs, report: Report) -> None:
    """What runs is exactly the image that was built and checked: by digest, from an allowed registry."""
    config = args.get_config()
    for where, image in _images(args):
        helm = where.startswith(("values", "valueYamlFiles"))
        if not helm and "@sha256:" not in image:
            report(
                f"{args.name}: {where} uses image '{image}' by tag; "
                "deploy it by digest (image@sha256:...), as the release config gives it"
            )
        elif helm and "@sha256:" not in image and image.rsplit("/", 1)[-1].endswith(":latest"):
            report(f"{args.name}: {where} uses the moving tag 'latest'; pin a version or a digest")
        elif (not helm or CR_YANDEX.match(image)) and (problem := _registry_problem(image, config)):
            report(f"{args.name}: {where} {problem}")


def images_from_own_registry(args: StackArgs, report: Report) -> None:
    """No image comes from another tenant's registry: on cr.yandex, only from the one this stack creates."""
    own = {str(i) for i in args.get_config().get("registryIds") or []}
    for resource in args.resources:
        if resource.resource_type == REGISTRY_BINDING and resource.props.get("registryId"):
            own.add(str(resource.props["registryId"]))
        elif resource.resource_type == REPOSITORY and "/" in str(resource.props.get("name", "")):
            own.add(str(resource.props["name"]).split("/", 1)[0])
    if not own:
        return  # no registry of this stack known yet (a first preview): images-by-digest judges the rest
    for resource in args.resources:
        for where, image in _images(resource):
            match = CR_YANDEX.match(image)
            if match and match[1] not in own:
                report(
                    f"{resource.name}: {where} pulls from registry '{match[1]}', not this stack's own; "
                    "push the image to the stack's registry and deploy it from there",
                    resource.urn,
                )


def containers_locked_down(args: ResourceArgs, report: Report) -> None:
    """A compromised container stays a process of an unprivileged user, bounded and health-checked.

    It runs as non-root, never escalates, has limits, and (long-running) probes. A
    patch is judged by what it sets: what it leaves out stays as the object has it.
    Root without any capability is let through where an exception names it
    (infra/policy/exceptions.py).
    """
    _values_context_problems(args, report)
    pod = _pod(args)
    pod_context = pod.get("securityContext") or {}
    if _patch(args.resource_type):
        _context_problems(f"{args.name}: the pod", pod_context, report)
    for container in _containers(pod):
        name = f"{args.name}: container '{container.get('name')}'"
        context = container.get("securityContext") or {}
        if _patch(args.resource_type):
            _context_problems(name, context, report)
            continue
        if not (context.get("runAsNonRoot") or pod_context.get("runAsNonRoot")):
            report(f"{name} may run as root; set securityContext.runAsNonRoot: true")
        if context.get("allowPrivilegeEscalation") is not False:
            report(f"{name} may escalate privileges; set securityContext.allowPrivilegeEscalation: false")
        if not {"cpu", "memory"} <= set(dig(container, "resources", "limits") or {}):
            report(f"{name} has no CPU and memory limits; set resources.limits")
    long_running = _kind(args.resource_type) in LONG_RUNNING and not _patch(args.resource_type)
    for container in (pod.get("containers") or []) if long_running else []:
        if not (container.get("readinessProbe") and container.get("livenessProbe")):
            report(
                f"{args.name}: container '{container.get('name')}' lacks a readiness or "
                "liveness probe; add both"
            )


def _values_context_problems(args: ResourceArgs, report: Report) -> None:
    # Wherever a chart reads them from: any mapping of the values or of a values file, but the
    # one context an exception names (infra/policy/exceptions.py).
    for where, mapping in value_mappings(args):
        if not root_excused(args, where, mapping):
            _context_problems(f"{args.name}: {where}", mapping, report)


def _context_problems(where: str, context: Mapping[str, Any], report: Report) -> None:
    if context.get("runAsNonRoot") is False or context.get("runAsUser") == 0:
        report(f"{where} runs as root; set runAsNonRoot: true and a non-zero user")
    if context.get("allowPrivilegeEscalation") is True:
        report(f"{where} allows privilege escalation; set it to false")


def _host_access(context: Mapping[str, Any]) -> list[str]:
    found = []
    if context.get("privileged") is True:
        found.append("privileged: true")
    added = (context.get("capabilities") or {}).get("add") if isinstance(context, Mapping) else None
    if added:
        found.append(f"added capabilities ({', '.join(str(c) for c in added)})")
    return found


def no_host_access(args: ResourceArgs, report: Report) -> None:
    """No pod can reach the node it runs on.

    Not privileged, no added capabilities, no hostPath, none of the node's
    namespaces: in a pod spec, a patch, or a chart's values wherever they sit;
    but the one read-only host directory an exception names (infra/policy/exceptions.py).
    """
    pod = _pod(args)
    for key in HOST_NAMESPACES:
        if pod.get(key) is True:
            report(f"{args.name}: the pod shares the node's namespace ({key}: true); remove it")
    for volume in pod.get("volumes") or []:
        if isinstance(volume, Mapping) and "hostPath" in volume:
            report(
                f"{args.name}: volume '{volume.get('name')}' mounts a hostPath; "
                "use a PersistentVolumeClaim, emptyDir, ConfigMap or Secret"
            )
    for container in _containers(pod):
        for problem in _host_access(container.get("securityContext") or {}):
            report(
                f"{args.name}: container '{container.get('name')}' has {problem}; "
                "drop it (capabilities.drop: [ALL], privileged: false)"
            )
    _no_host_access_in_values(args, report)


def _switched_on(value: Any) -> bool:
    """A chart value that turns a switch on: true, or a string a template renders as true.

    `hostNetwork: {{ .Values.hostNetwork }}` writes "true" or "yes" into the
    manifest as it is, where Kubernetes reads YAML 1.1's true.
    """
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "yes", "on"))


def _no_host_access_in_values(args: ResourceArgs, report: Report) -> None:
    # Charts name these keys as they like (`controller.hostNetwork`, `daemonset.useHostPort`...):
    # judged by key wherever it sits, not only under a key named like a security context.
    for where, tree in value_trees(args):
        if tree is UNREADABLE:
            report(f"{args.name}: {where} cannot be read, so the policies cannot judge it; inline it")
    for where, keys, value in value_leaves(args):
        if keys[-1:] and keys[-1] in HOST_NAMESPACES and _switched_on(value):
            report(f"{args.name}: {where} is true; the chart's pods would share the node's namespaces")
        elif keys[-1:] == ("privileged",) and _switched_on(value):
            report(f"{args.name}: {where} is true; the chart's pods would be privileged")
        elif "add" in keys and "capabilities" in keys and isinstance(value, str):
            report(f"{args.name}: {where} adds a capability; drop it")
    for where, mapping in value_mappings(args):
        if "hostPath" in mapping and not host_path_excused(args, where, mapping):
            report(f"{args.name}: {where} mounts a hostPath; use a volume that is not the node's disk")


def user_facing_replicas(args: ResourceArgs, report: Report) -> None:
    """In production, users are served while a pod restarts: user-facing workloads run two replicas or more.

    An autoscaler's floor included.
    """
    config = args.get_config()
    kind = _kind(args.resource_type)
    if kind not in ("Deployment", "StatefulSet", "HorizontalPodAutoscaler") or not config.get("production"):
        return
    component = dig(args.props, "metadata", "labels", "app.kubernetes.io/component")
    if component not in config.get("userFacing", ["api", "frontend"]):
        return
    spec = args.props.get("spec") or {}
    if kind == "HorizontalPodAutoscaler":
        replicas = spec.get("minReplicas", 1)
    elif "replicas" in spec and spec["replicas"] is not None:
        replicas = spec["replicas"]
    else:
        return  # left to an autoscaler, judged above
    if int(replicas) < 2:
        report(
            f"{args.name}: a user-facing workload with {int(replicas)} replica in production; run at least 2"
        )


def workloads_have_budgets(args: StackArgs, report: Report) -> None:
    """A node drain never takes a workload down: every workload has a PodDisruptionBudget for its pods."""
    budgets = [
        dig(r.props, "spec", "selector", "matchLabels") or {}
        for r in args.resources
        if r.resource_type == PDB
    ]
    for deployment in (r for r in args.resources if r.resource_type == DEPLOYMENT):
        labels = dig(deployment.props, "spec", "template", "metadata", "labels") or {}
        if not any(selector and selector.items() <= labels.items() for selector in budgets):
            report(f"{deployment.name}: no PodDisruptionBudget selects its pods; add one", deployment.urn)


def recommended_labels(args: ResourceArgs, report: Report) -> None:
    """Every Kubernetes object says what it belongs to: the recommended app.kubernetes.io labels."""
    if not _kind(args.resource_type) or _patch(args.resource_type):
        return  # a patch changes what it names; the labels stay the object's
    if args.resource_type.startswith("pulumi:providers:"):
        return
    labels = dig(args.props, "metadata", "labels") or {}
    missing = [label for label in RECOMMENDED_LABELS if label not in labels]
    if missing:
        report(f"{args.name}: missing labels {', '.join(missing)}; use Naming.k8s_labels")
