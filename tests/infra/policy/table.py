"""The violation table's rows: a planted violation, the policy meant to catch it, and the path it takes.

The path is how the resource would reach the cluster or the cloud: the resource
itself, its patch kind, a Helm release's values or values file, the network's
default security group, a lone security-group rule.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from tests.infra.policy.test_policies import R, deployment

RESOURCE, PATCH, HELM_VALUES, VALUES_FILE = "resource", "patch", "helm values", "values file"
DEFAULT_GROUP, RULE_RESOURCE = "default security group", "rule resource"
PATHS = (RESOURCE, PATCH, HELM_VALUES, VALUES_FILE, DEFAULT_GROUP, RULE_RESOURCE)
POD = "spec/template/spec"


def workload(kind: str, **changes: Any) -> R:
    """A locked-down workload of `kind` (its pod template where that kind keeps it), then `changes`."""
    base = deployment(**changes)
    props = copy.deepcopy(base.props)
    template = props["spec"]["template"]
    props["kind"] = kind
    if kind == "Pod":
        props["spec"] = template["spec"]
    elif kind == "CronJob":
        props["spec"] = {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": template}}}
    elif kind == "Job":
        props["spec"] = {"template": template}
    group = {"Job": "batch/v1", "CronJob": "batch/v1", "Pod": "core/v1"}.get(kind, "apps/v1")
    return R(f"kubernetes:{group}:{kind}", "api", props)


def helm(values: dict[str, Any]) -> R:
    return R(
        "kubernetes:helm.sh/v3:Release",
        "exporter",
        {"chart": "prometheus-redis-exporter", "version": "6.9.0", "values": values},
    )


def values_file(text: str) -> R:
    """A Helm release whose values come from a file (a StringAsset, as the engine sends it)."""
    sig = "4dabf18193072939515e22adb298388d"  # pragma: allowlist secret
    asset = {sig: "c44067f5952c0a294b673a41bacd8c17", "text": text}  # pragma: allowlist secret
    return R(
        "kubernetes:helm.sh/v3:Release",
        "chart",
        {"chart": "some-chart", "version": "1.0.0", "values": {}, "valueYamlFiles": [asset]},
    )


def patch(resource: R) -> R:
    """The same object as a server-side apply patch (pulumi-kubernetes' `...Patch` type)."""
    return R(resource.type + "Patch", resource.name + "-patch", copy.deepcopy(resource.props))


@dataclass(frozen=True)
class Fixture:
    name: str
    policy: str
    stack: str
    resources: tuple[R, ...]
    path: str = RESOURCE


def f(name: str, policy: str, *resources: R, stack: str = "staging", path: str = "") -> Fixture:
    """A row; its path read from its resources unless given."""
    if not path:
        types = [r.type for r in resources]
        path = next(
            (
                label
                for label, hit in (
                    (PATCH, any(t.endswith("Patch") for t in types)),
                    (VALUES_FILE, any(r.props.get("valueYamlFiles") for r in resources)),
                    (HELM_VALUES, any(t.startswith("kubernetes:helm.sh/") for t in types)),
                    (DEFAULT_GROUP, any(t.endswith(":VpcDefaultSecurityGroup") for t in types)),
                    (RULE_RESOURCE, any(t.endswith(":VpcSecurityGroupRule") for t in types)),
                )
                if hit
            ),
            RESOURCE,
        )
    return Fixture(name, policy, stack, resources, path)
