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

import re
from collections.abc import Callable, Iterator, Mapping
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
RECOMMENDED_LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/part-of", "app.kubernetes.io/managed-by")
PRIMITIVE_ROLES = frozenset({"admin", "editor"})
SECRETISH = re.compile(r"(passw(or)?d|secret|token|api[_-]?key|private[_-]?key|credential)", re.IGNORECASE)
# Secret-looking values: PEM keys, Yandex IAM and OAuth tokens, static keys, long opaque strings.
SECRET_VALUE = re.compile(
    r"(-----BEGIN [A-Z ]*PRIVATE KEY-----|^t1\.[A-Za-z0-9_-]{20,}|^y0_[A-Za-z0-9_-]{20,}"
    r"|^YC[A-Za-z0-9_-]{30,}|^sk-[A-Za-z0-9_-]{20,})"
)
REDACTED = "[secret]"
# A Kubernetes object name or key: what a secret-named field holds when it refers to a Secret.
REFERENCE = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")


def _pod_specs(args: ResourceArgs) -> Iterator[dict[str, Any]]:
    if args.resource_type in (DEPLOYMENT, JOB):
        spec = args.props.get("spec") or {}
        template = spec.get("template") or {}
        if template.get("spec"):
            yield template["spec"]


def _containers(pod: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    yield from pod.get("initContainers") or []
    yield from pod.get("containers") or []


# --- mandatory -------------------------------------------------------------------------


def images_by_digest(args: ResourceArgs, report: Report) -> None:
    """Workload images are referenced by digest, from an allowed registry."""
    allowed = tuple(args.get_config().get("allowedRegistries", ["cr.yandex/"]))
    for pod in _pod_specs(args):
        for container in _containers(pod):
            image = str(container.get("image", ""))
            if "@sha256:" not in image:
                report(
                    f"{args.name}: container '{container.get('name')}' uses image '{image}' by tag; "
                    "deploy it by digest (image@sha256:...), as the release config gives it"
                )
            elif not image.startswith(allowed):
                report(
                    f"{args.name}: container '{container.get('name')}' pulls from outside the allowed "
                    f"registries ({', '.join(allowed)}); push the image there"
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
        if args.resource_type == DEPLOYMENT:
            for container in pod.get("containers") or []:
                if not {"readinessProbe", "livenessProbe"} <= set(container):
                    report(
                        f"{args.name}: container '{container.get('name')}' lacks a readiness or "
                        "liveness probe; add both"
                    )


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
    elif isinstance(node, list):
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
        key = where.rsplit(".", 1)[-1]
        if _secret_looking(key if not where.startswith("env ") else where.split()[1], value):
            report(
                f"{args.name}: {where} holds a secret-looking literal; move it to Lockbox and read it "
                "from a Secret (External Secrets)"
            )


def no_primitive_roles(args: ResourceArgs, report: Report) -> None:
    """No account gets a primitive role (admin, editor)."""
    role = args.props.get("role")
    if isinstance(role, str) and role in PRIMITIVE_ROLES:
        report(f"{args.name}: grants the primitive role '{role}'; grant the narrowest service role instead")


def prod_stateful_protected(args: StackArgs, report: Report) -> None:
    """In production, buckets, database clusters and KMS keys are protected from deletion."""
    if not args.get_config().get("production"):
        return
    for resource in args.resources:
        stateful = resource.resource_type in (BUCKET, KMS_KEY) or (
            resource.resource_type == CNPG_CLUSTER
            and "recovery" not in ((resource.props.get("spec") or {}).get("bootstrap") or {})
        )
        if stateful and not resource.opts.protect:
            report(
                f"{resource.name}: a production {resource.resource_type.rsplit(':', 1)[-1]} is not "
                "protected; set protect=True (protect_stateful)",
                resource.urn,
            )


# --- advisory --------------------------------------------------------------------------


def secrets_rotated(args: ResourceArgs, report: Report) -> None:
    """Lockbox secrets are rotated within the stack's period."""
    if args.resource_type != DYNAMIC or "payload" not in args.props:
        return
    config = args.get_config()
    period = int(config.get("rotationDays", 90))
    stamp = args.props.get("rotated_at") or args.props.get("created_at")
    if not isinstance(stamp, str) or not stamp:
        return
    now = datetime.fromisoformat(str(config["now"])) if config.get("now") else datetime.now(UTC)
    age = (now - datetime.fromisoformat(stamp.replace("Z", "+00:00"))).days
    if age > period:
        report(
            f"{args.name}: last rotated {age} days ago, over the {period}-day period; "
            "run `samokoder-infra rotate-secrets` and `pulumi up`"
        )


def user_facing_replicas(args: ResourceArgs, report: Report) -> None:
    """In production, user-facing workloads run at least two replicas."""
    config = args.get_config()
    if args.resource_type != DEPLOYMENT or not config.get("production"):
        return
    component = ((args.props.get("metadata") or {}).get("labels") or {}).get("app.kubernetes.io/component")
    replicas = (args.props.get("spec") or {}).get("replicas", 1)
    if component in config.get("userFacing", ["api", "frontend"]) and int(replicas) < 2:
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
