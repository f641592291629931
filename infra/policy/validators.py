"""The platform's policies as plain validator functions ``(args, report_violation)``.

One source for both ways they run: wrapped in CrossGuard's
``ResourceValidationPolicy``/``StackValidationPolicy`` by the policy pack
(``policy/``), which ``pulumi preview --policy-pack`` loads, and called
directly by ``samokoder-infra check`` on the synthesized resources. They
read only what both give: ``resource_type``, ``props`` (engine names,
camelCase), ``urn``, ``name``, ``opts.protect`` and ``get_config()``, and a
stack validator's ``resources``. Standard library only: a policy pack runs
in its own environment.

Every message names the resource and the fix, and never repeats a value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

Report = Callable[..., None]


class Options(Protocol):
    protect: bool


class ResourceArgs(Protocol):
    resource_type: str
    props: Mapping[str, Any]
    urn: str
    name: str
    opts: Options

    def get_config(self) -> Mapping[str, Any]: ...


class StackArgs(Protocol):
    resources: list[Any]

    def get_config(self) -> Mapping[str, Any]: ...


DEPLOYMENT = "kubernetes:apps/v1:Deployment"
JOB = "kubernetes:batch/v1:Job"
BUCKET = "yandex:index/storageBucket:StorageBucket"
KMS_KEY = "yandex:index/kmsSymmetricKey:KmsSymmetricKey"
CNPG_CLUSTER = "kubernetes:postgresql.cnpg.io/v1:Cluster"
SCHEDULED_BACKUP = "kubernetes:postgresql.cnpg.io/v1:ScheduledBackup"
OBJECT_STORE = "kubernetes:barmancloud.cnpg.io/v1:ObjectStore"
DYNAMIC = "pulumi-python:dynamic:Resource"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
SECRET = "kubernetes:core/v1:Secret"  # pragma: allowlist secret
REGISTRY_BINDING = "yandex:index/containerRegistryIamBinding:ContainerRegistryIamBinding"
REPOSITORY = "yandex:index/containerRepository:ContainerRepository"
SECURITY_GROUP = "yandex:index/vpcSecurityGroup:VpcSecurityGroup"
SECURITY_GROUP_RULE = "yandex:index/vpcSecurityGroupRule:VpcSecurityGroupRule"
K8S_CLUSTER = "yandex:index/kubernetesCluster:KubernetesCluster"
NODE_GROUP = "yandex:index/kubernetesNodeGroup:KubernetesNodeGroup"
MDB_REDIS = "yandex:index/mdbRedisCluster:MdbRedisCluster"
DYNAMIC_REDIS = "pulumi-python:dynamic/redis:ManagedRedisCluster"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
RECOMMENDED_LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/part-of", "app.kubernetes.io/managed-by")
PRIMITIVE_ROLES = frozenset({"admin", "editor", "owner"})
# resource-manager.clouds.owner, resource-manager.admin, organization-manager.admin, ...
BROAD_ROLE = re.compile(r"^(resource-manager|organization-manager|billing)\.([a-z]+\.)?(owner|admin|editor)$")
SECRETISH = re.compile(r"(passw(or)?d|secret|token|api[_-]?key|private[_-]?key|credential)", re.IGNORECASE)
# Secret-looking values: PEM keys, Yandex IAM and OAuth tokens, static keys, long opaque strings.
SECRET_VALUE = re.compile(
    r"(-----BEGIN [A-Z ]*PRIVATE KEY-----|^t1\.[A-Za-z0-9_-]{20,}|^y0_[A-Za-z0-9_-]{20,}"
    r"|^YC[A-Za-z0-9_-]{30,}|^sk-[A-Za-z0-9_-]{20,})"
)
REDACTED = "[secret]"
# scheme://user:password@host: a connection URL that carries its password.  # pragma: allowlist secret
URL_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^/:@\s]+:[^@/\s]+@", re.IGNORECASE)
# A Kubernetes object name or key: what a secret-named field holds when it refers to a Secret.
REFERENCE = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")


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
SECURITY_CONTEXTS = frozenset({"securityContext", "podSecurityContext", "containerSecurityContext"})
HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")


def _is_list(node: Any) -> bool:
    # CrossGuard hands lists over as read-only proxies (Sequences), not lists.
    return isinstance(node, Sequence) and not isinstance(node, str | bytes)


def _kind(resource_type: str) -> str:
    """`kubernetes:apps/v1:StatefulSet` -> `StatefulSet`; '' for anything not Kubernetes."""
    if not resource_type.startswith("kubernetes:"):
        return ""
    return resource_type.rsplit(":", 1)[-1]


def _pod_specs(args: ResourceArgs) -> Iterator[dict[str, Any]]:
    """The pod specs of any pod-bearing object, whatever its kind or API version."""
    path = POD_SPEC_PATHS.get(_kind(args.resource_type))
    if path is None:
        return
    node: Any = args.props
    for key in path:
        node = node.get(key) if isinstance(node, Mapping) else None
    if isinstance(node, Mapping) and node:
        yield dict(node)


def _containers(pod: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    yield from pod.get("initContainers") or []
    yield from pod.get("containers") or []
    yield from pod.get("ephemeralContainers") or []


def _values(args: ResourceArgs) -> Mapping[str, Any]:
    """A Helm release's values (what this program controls of a chart's pods)."""
    if args.resource_type != HELM_RELEASE:
        return {}
    values = args.props.get("values")
    return values if isinstance(values, Mapping) else {}


def _mappings(node: Any, path: str = "values") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every mapping in a tree of values, with its path."""
    if isinstance(node, Mapping):
        yield path, node
        for key, value in node.items():
            yield from _mappings(value, f"{path}.{key}")
    elif _is_list(node):
        for i, value in enumerate(node):
            yield from _mappings(value, f"{path}[{i}]")


def _images(args: ResourceArgs) -> Iterator[tuple[str, str]]:
    """(where, image reference) of every container of a pod-bearing object and of Helm values."""
    for pod in _pod_specs(args):
        for container in _containers(pod):
            yield f"container '{container.get('name')}'", str(container.get("image", ""))
    for path, mapping in _mappings(_values(args)):
        image = mapping.get("image")
        if isinstance(image, str) and "/" in image:
            yield path + ".image", image
        elif isinstance(image, Mapping) and isinstance(image.get("repository"), str):
            repository = "/".join(str(part) for part in (image.get("registry"), image["repository"]) if part)
            if image.get("digest"):
                yield path + ".image", f"{repository}@{image['digest']}"
            elif image.get("tag") not in (None, ""):
                yield path + ".image", f"{repository}:{image['tag']}"


# --- mandatory -------------------------------------------------------------------------


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
    """Workload images are referenced by digest, from an allowed registry (the stack's own on cr.yandex)."""
    config = args.get_config()
    for where, image in _images(args):
        helm = where.startswith("values")
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
    """Images on cr.yandex come from the registry this stack creates (no other tenant's registry)."""
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
    """Containers run as non-root, never escalate, and have limits; long-running ones have probes."""
    for pod in _pod_specs(args):
        pod_context = pod.get("securityContext") or {}
        for container in _containers(pod):
            name = f"{args.name}: container '{container.get('name')}'"
            context = container.get("securityContext") or {}
            if not (context.get("runAsNonRoot") or pod_context.get("runAsNonRoot")):
                report(f"{name} may run as root; set securityContext.runAsNonRoot: true")
            if context.get("allowPrivilegeEscalation") is not False:
                report(f"{name} may escalate privileges; set securityContext.allowPrivilegeEscalation: false")
            limits = (container.get("resources") or {}).get("limits") or {}
            if not {"cpu", "memory"} <= set(limits):
                report(f"{name} has no CPU and memory limits; set resources.limits")
        if _kind(args.resource_type) in LONG_RUNNING:
            for container in pod.get("containers") or []:
                if not (container.get("readinessProbe") and container.get("livenessProbe")):
                    report(
                        f"{args.name}: container '{container.get('name')}' lacks a readiness or "
                        "liveness probe; add both"
                    )
    _values_locked_down(args, report)


def _values_locked_down(args: ResourceArgs, report: Report) -> None:
    for where, context in _value_contexts(args):
        if context.get("runAsNonRoot") is False or context.get("runAsUser") == 0:
            report(f"{args.name}: {where} runs as root; set runAsNonRoot: true and a non-zero user")
        if context.get("allowPrivilegeEscalation") is True:
            report(f"{args.name}: {where} allows privilege escalation; set it to false")


def _value_contexts(args: ResourceArgs) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every security context in a Helm release's values (securityContext, podSecurityContext, ...)."""
    for path, mapping in _mappings(_values(args)):
        for key in sorted(SECURITY_CONTEXTS & set(mapping)):
            if isinstance(mapping[key], Mapping):
                yield f"{path}.{key}", mapping[key]


def _host_access(context: Mapping[str, Any]) -> list[str]:
    found = []
    if context.get("privileged") is True:
        found.append("privileged: true")
    added = (context.get("capabilities") or {}).get("add") if isinstance(context, Mapping) else None
    if added:
        found.append(f"added capabilities ({', '.join(str(c) for c in added)})")
    return found


def no_host_access(args: ResourceArgs, report: Report) -> None:
    """No pod is privileged, adds capabilities, mounts a hostPath or shares the node's namespaces."""
    for pod in _pod_specs(args):
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


def _no_host_access_in_values(args: ResourceArgs, report: Report) -> None:
    for path, mapping in _mappings(_values(args)):
        for key in HOST_NAMESPACES:
            if mapping.get(key) is True:
                report(
                    f"{args.name}: {path}.{key} is true; the chart's pods would share the node's namespaces"
                )
        if "hostPath" in mapping:
            report(f"{args.name}: {path} mounts a hostPath; use a volume that is not the node's disk")
    for where, context in _value_contexts(args):
        for problem in _host_access(context):
            report(f"{args.name}: {where} has {problem}; drop it")


def buckets_locked_down(args: ResourceArgs, report: Report) -> None:
    """Object Storage buckets are private, versioned, KMS-encrypted and have lifecycle rules."""
    if args.resource_type != BUCKET:
        return
    props = args.props
    if props.get("acl") not in (None, "private") or any(
        grant.get("type") == "Group" or grant.get("uri") for grant in props.get("grants") or []
    ):
        report(
            f"{args.name}: the bucket is readable beyond its own accounts; "
            "keep acl private, grant accounts only"
        )
    if not (props.get("versioning") or {}).get("enabled"):
        report(f"{args.name}: versioning is off; set versioning.enabled so deleted objects can be recovered")
    rule = ((props.get("serverSideEncryptionConfiguration") or {}).get("rule") or {}).get(
        "applyServerSideEncryptionByDefault"
    ) or {}
    if rule.get("sseAlgorithm") != "aws:kms" or not rule.get("kmsMasterKeyId"):
        report(f"{args.name}: objects are not encrypted with a KMS key; set server-side encryption aws:kms")
    if not props.get("lifecycleRules"):
        report(f"{args.name}: no lifecycle rules; expire noncurrent versions and abort stale uploads")
    if _public_bucket_policy(props.get("policy")):
        report(
            f"{args.name}: the bucket policy allows a '*' principal (anyone); "
            "name the accounts that need access instead"
        )
    if props.get("website") or props.get("websiteEndpoint") or props.get("websiteDomain"):
        report(f"{args.name}: website hosting is on, which serves objects to anyone; remove website")
    flags = props.get("anonymousAccessFlags") or {}
    if any(flags.get(flag) for flag in ("read", "list", "configRead")):
        report(f"{args.name}: anonymous access is on; set anonymousAccessFlags read and list to false")


def _public_bucket_policy(policy: Any) -> bool:
    """A bucket policy document (JSON text or parsed) with an Allow statement for any principal."""
    if isinstance(policy, str):
        if not policy.strip():
            return False
        try:
            policy = json.loads(policy)
        except ValueError:
            return "*" in policy  # unreadable: judged by its text
    if not isinstance(policy, Mapping):
        return False
    statements = policy.get("Statement") or []
    for statement in statements if _is_list(statements) else [statements]:
        if not isinstance(statement, Mapping) or statement.get("Effect", "Allow") != "Allow":
            continue
        principal = statement.get("Principal")
        if principal == "*" or (
            isinstance(principal, Mapping)
            and any(value == "*" or (_is_list(value) and "*" in value) for value in principal.values())
        ):
            return True
    return False


def postgres_backed_up(args: StackArgs, report: Report) -> None:
    """Every Postgres cluster archives WAL, has scheduled backups, and keeps them for the stack's floor."""
    floor = int(args.get_config().get("minimumRetentionDays", 7))
    clusters = [r for r in args.resources if r.resource_type == CNPG_CLUSTER]
    scheduled = {
        ((r.props.get("spec") or {}).get("cluster") or {}).get("name")
        for r in args.resources
        if r.resource_type == SCHEDULED_BACKUP
    }
    stores = {
        (r.props.get("metadata") or {}).get("name"): r
        for r in args.resources
        if r.resource_type == OBJECT_STORE
    }
    for cluster in clusters:
        spec = cluster.props.get("spec") or {}
        if "recovery" in (spec.get("bootstrap") or {}):
            continue  # a restore's scratch copy is not the database of record
        name = (cluster.props.get("metadata") or {}).get("name")
        archivers = [p for p in spec.get("plugins") or [] if p.get("isWALArchiver")]
        if not archivers:
            report(
                f"{cluster.name}: no WAL archiver; add the Barman Cloud plugin with isWALArchiver: true",
                cluster.urn,
            )
            continue
        if name not in scheduled:
            report(f"{cluster.name}: no ScheduledBackup for cluster '{name}'; add a daily one", cluster.urn)
        store = stores.get((archivers[0].get("parameters") or {}).get("barmanObjectName"))
        if store is None:
            report(f"{cluster.name}: its WAL archiver names no ObjectStore of this stack", cluster.urn)
            continue
        retention = str((store.props.get("spec") or {}).get("retentionPolicy", ""))
        days = _days(retention)
        if days is None or days < floor:
            report(
                f"{store.name}: retention '{retention or 'none'}' is under this stack's floor of "
                f"{floor} days; set retentionPolicy to at least '{floor}d'",
                store.urn,
            )


def _days(policy: str) -> int | None:
    match = re.fullmatch(r"([1-9][0-9]*)([dwm])", policy)
    if not match:
        return None
    return int(match[1]) * {"d": 1, "w": 7, "m": 30}[match[2]]


def lockbox_encrypted(args: ResourceArgs, report: Report) -> None:
    """Lockbox secrets are encrypted with a KMS key of ours."""
    if args.resource_type == DYNAMIC and "payload" in args.props and not args.props.get("kms_key_id"):
        report(f"{args.name}: the Lockbox secret has no KMS key; set kms_key_id to the stack's Lockbox key")


def _secret_looking(key: str, value: Any) -> bool:
    if not isinstance(value, str) or not value or value == REDACTED:
        return False
    if SECRET_VALUE.search(value):
        return True
    # A secret-named key holding a literal of some length: not a Secret's or key's name, a path or a template.
    return (
        bool(SECRETISH.search(key))
        and len(value) >= 12
        and not REFERENCE.fullmatch(value)
        and not value.startswith(("/", "{{", "$"))
    )


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}" if path else str(key))
    elif _is_list(node):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")
    else:
        yield path, node


def no_secret_literals(args: ResourceArgs, report: Report) -> None:
    """No secret-looking literal in a ConfigMap, an env var or Helm values."""
    places: list[tuple[str, Any]] = []
    if args.resource_type == CONFIG_MAP:
        places = [(f"data.{k}", v) for k, v in (args.props.get("data") or {}).items()]
    elif args.resource_type == HELM_RELEASE:
        places = list(_walk(args.props.get("values") or {}, "values"))
    for pod in _pod_specs(args):
        for container in _containers(pod):
            for env in container.get("env") or []:
                places.append((f"env {env.get('name')} of '{container.get('name')}'", env.get("value")))
    for where, value in places:
        if isinstance(value, str) and value != REDACTED and URL_PASSWORD.search(value):
            report(
                f"{args.name}: {where} is a URL with an inline password; give the password through a "
                "Secret (SAMOKODER_DATABASE_PASSWORD from External Secrets) and keep the URL without it"
            )
            continue
        key = where.rsplit(".", 1)[-1]
        if _secret_looking(key if not where.startswith("env ") else where.split()[1], value):
            report(
                f"{args.name}: {where} holds a secret-looking literal; move it to Lockbox and read it "
                "from a Secret (External Secrets)"
            )


def _broad_role(role: str) -> bool:
    return role in PRIMITIVE_ROLES or bool(BROAD_ROLE.match(role))


def no_primitive_roles(args: ResourceArgs, report: Report) -> None:
    """No account gets a primitive role (admin, editor) or owner/admin of a cloud, folder or organization."""
    roles = [args.props.get("role"), *(args.props.get("roles") or [])]
    for role in roles:
        if isinstance(role, str) and _broad_role(role):
            report(f"{args.name}: grants the broad role '{role}'; grant the narrowest service role instead")
    if _kind(args.resource_type) in ("ClusterRoleBinding", "RoleBinding"):
        ref = (args.props.get("roleRef") or {}).get("name")
        if ref in ("cluster-admin", "admin"):
            report(f"{args.name}: binds the Kubernetes role '{ref}'; bind a role with only the verbs needed")
    members = [args.props.get("member"), *(args.props.get("members") or [])]
    if any(m in ("system:allUsers", "system:allAuthenticatedUsers") for m in members):
        report(f"{args.name}: grants a role to everyone (system:allUsers); name the accounts instead")


def secrets_not_in_code(args: ResourceArgs, report: Report) -> None:
    """A Kubernetes Secret's data comes from secret values (Lockbox, Outputs), never from literals in code.

    What tells them apart: a value from a secret Output reaches the validators
    redacted (synth writes ``[secret]``; the pack, ``policy/__main__.py``,
    redacts what the engine marks secret the same way), a literal reaches them
    as itself.
    """
    if args.resource_type != SECRET:
        return
    for field_name in ("data", "stringData"):
        data = args.props.get(field_name)
        if data == REDACTED or not isinstance(data, Mapping):
            continue
        for key, value in data.items():
            if isinstance(value, str) and value not in (REDACTED, ""):
                report(
                    f"{args.name}: {field_name}.{key} is a literal in code; put the value in Lockbox "
                    "(delivered by External Secrets) or pass it as a secret Output"
                )


# Ports of databases and caches that must never face the internet.
DATABASE_PORTS = (3306, 5432, 6379, 6380, 6432, 9200, 11211, 26379, 27017)
KUBERNETES_API_PORTS = (443, 6443)
NODE_PORT_RANGE = (30000, 32767)
WORLD = frozenset({"0.0.0.0/0", "::/0"})


def _ingress_rules(resource: Any) -> Iterator[Mapping[str, Any]]:
    if resource.resource_type == SECURITY_GROUP:
        yield from (r for r in resource.props.get("ingresses") or [] if isinstance(r, Mapping))
    elif resource.resource_type == SECURITY_GROUP_RULE and resource.props.get("direction") == "ingress":
        yield resource.props


def _port(value: Any) -> int | None:
    # Numbers arrive as floats through the engine's protobuf Struct.
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return int(value)


def _ports(rule: Mapping[str, Any]) -> tuple[int, int]:
    port = _port(rule.get("port"))
    if port is not None:
        return port, port
    low, high = _port(rule.get("fromPort")), _port(rule.get("toPort"))
    return (0 if low is None else low, 65535 if high is None else high)


def _world_open(rule: Mapping[str, Any]) -> bool:
    blocks = [*(rule.get("v4CidrBlocks") or []), *(rule.get("v6CidrBlocks") or [])]
    return any(block in WORLD for block in blocks)


def _covers(ports: tuple[int, int], wanted: tuple[int, ...]) -> list[int]:
    return [port for port in wanted if ports[0] <= port <= ports[1]]


def security_groups_closed(args: ResourceArgs, report: Report) -> None:
    """No security group opens database ports, every port, or NodePorts beyond the ingress's to anyone.

    The Kubernetes API's exposure is ``prod-api-private``'s.
    """
    public = {int(port) for port in args.get_config().get("publicNodePorts") or []}
    for rule in _ingress_rules(args):
        if not _world_open(rule) or rule.get("protocol") == "ICMP":
            continue
        ports = _ports(rule)
        label = f"{args.name}: ingress '{rule.get('description', '')}'"
        if databases := _covers(ports, DATABASE_PORTS):
            report(
                f"{label} opens database port(s) {', '.join(map(str, databases))} to 0.0.0.0/0; "
                "allow only the cluster's subnets"
            )
        nodeports = ports[0] <= NODE_PORT_RANGE[1] and ports[1] >= NODE_PORT_RANGE[0]
        if nodeports and ports != (0, 65535) and not (ports[0] == ports[1] and ports[0] in public):
            report(
                f"{label} opens NodePorts to 0.0.0.0/0; allow only the load balancer's health-check "
                "ranges (198.18.235.0/24, 198.18.248.0/24) and the cluster's own networks, and clients "
                "to the ingress controller's own NodePorts (publicNodePorts) alone"
            )
        if ports == (0, 65535):
            report(f"{label} opens every port to 0.0.0.0/0; open only the ports needed")


def nodes_private(args: ResourceArgs, report: Report) -> None:
    """Kubernetes nodes have no public IP address: egress goes through the NAT gateway."""
    if args.resource_type != NODE_GROUP:
        return
    template = args.props.get("instanceTemplate") or {}
    for interface in template.get("networkInterfaces") or []:
        if isinstance(interface, Mapping) and interface.get("nat"):
            report(
                f"{args.name}: nodes get public IP addresses (nat: true); set node_group.public_ip: false "
                "(egress goes through the network's NAT gateway)"
            )


def _lockbox(resource: Any) -> bool:
    kind = resource.resource_type
    return kind.startswith("pulumi-python:dynamic") and (
        "lockbox" in kind.lower() or ("payload" in resource.props and "kms_key_id" in resource.props)
    )


def _stateful(resource: Any) -> bool:
    kind = resource.resource_type
    if kind == CNPG_CLUSTER:
        return "recovery" not in ((resource.props.get("spec") or {}).get("bootstrap") or {})
    return (
        kind in (BUCKET, KMS_KEY, K8S_CLUSTER, MDB_REDIS, DYNAMIC_REDIS, STATEFUL_SET)
        or "redis" in kind.lower()
        or _lockbox(resource)
    )


def prod_stateful_protected(args: StackArgs, report: Report) -> None:
    """In production, what holds state is protected from deletion.

    Buckets, KMS keys, the Kubernetes cluster, database clusters, Redis
    (managed, or in-cluster as a StatefulSet) and Lockbox secrets.
    """
    if not args.get_config().get("production"):
        return
    for resource in args.resources:
        if _stateful(resource) and not resource.opts.protect:
            report(
                f"{resource.name}: a production {resource.resource_type.rsplit(':', 1)[-1]} is not "
                "protected; set protect=True (protect_stateful)",
                resource.urn,
            )


def prod_api_private(args: StackArgs, report: Report) -> None:
    """In production, a public Kubernetes API is not open to the whole internet."""
    if not args.get_config().get("production"):
        return
    public = [
        r
        for r in args.resources
        if r.resource_type == K8S_CLUSTER and ((r.props.get("master") or {}).get("publicIp") is True)
    ]
    if not public:
        return
    for resource in args.resources:
        for rule in _ingress_rules(resource):
            if _world_open(rule) and _covers(_ports(rule), KUBERNETES_API_PORTS):
                report(
                    f"{public[0].name}: the public Kubernetes API is open to 0.0.0.0/0 "
                    f"({resource.name}: '{rule.get('description', '')}'); set cluster.api_allowed_cidrs to "
                    "the operators' and CI's CIDRs, or cluster.public_api: false",
                    public[0].urn,
                )


# --- advisory --------------------------------------------------------------------------


def secrets_rotated(args: StackArgs, report: Report) -> None:
    """Lockbox secrets are rotated within the stack's period.

    A stack policy, because the age is what the provider reports (``created_at``,
    an output) unless a rotation was stamped (``rotated_at``, an input): a
    resource policy sees inputs only, where a secret never rotated has no date.
    """
    config = args.get_config()
    period = int(config.get("rotationDays", 90))
    now = datetime.fromisoformat(str(config["now"])) if config.get("now") else datetime.now(UTC)
    for resource in args.resources:
        if resource.resource_type != DYNAMIC or "payload" not in resource.props:
            continue
        stamp = resource.props.get("rotated_at") or resource.props.get("created_at")
        if not isinstance(stamp, str) or not stamp:
            continue
        age = (now - datetime.fromisoformat(stamp.replace("Z", "+00:00"))).days
        if age > period:
            report(
                f"{resource.name}: last rotated {age} days ago, over the {period}-day period; "
                "run `samokoder-infra rotate-secrets` and `pulumi up`",
                resource.urn,
            )


def user_facing_replicas(args: ResourceArgs, report: Report) -> None:
    """In production, user-facing workloads run at least two replicas (an autoscaler's floor included)."""
    config = args.get_config()
    kind = _kind(args.resource_type)
    if kind not in ("Deployment", "StatefulSet", "HorizontalPodAutoscaler") or not config.get("production"):
        return
    component = ((args.props.get("metadata") or {}).get("labels") or {}).get("app.kubernetes.io/component")
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
    """Every workload has a PodDisruptionBudget selecting its pods."""
    budgets = [
        ((r.props.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        for r in args.resources
        if r.resource_type == PDB
    ]
    for deployment in (r for r in args.resources if r.resource_type == DEPLOYMENT):
        labels = (((deployment.props.get("spec") or {}).get("template") or {}).get("metadata") or {}).get(
            "labels"
        ) or {}
        if not any(selector and selector.items() <= labels.items() for selector in budgets):
            report(f"{deployment.name}: no PodDisruptionBudget selects its pods; add one", deployment.urn)


def recommended_labels(args: ResourceArgs, report: Report) -> None:
    """Kubernetes objects carry the recommended app.kubernetes.io labels."""
    if not args.resource_type.startswith("kubernetes:") or args.resource_type == HELM_RELEASE:
        return
    if args.resource_type.startswith("pulumi:providers:"):
        return
    labels = (args.props.get("metadata") or {}).get("labels") or {}
    missing = [label for label in RECOMMENDED_LABELS if label not in labels]
    if missing:
        report(f"{args.name}: missing labels {', '.join(missing)}; use Naming.k8s_labels")
