"""Which validators are policies, how strictly, and what they may be configured with.

Standard library only, like the validators: the CrossGuard pack (``policy/``)
imports this to build its ``PolicyPack``; ``samokoder-infra check`` runs the
same list offline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from infra.policy.validators import access, data, exposure, network, pods, secrets

Enforcement = Literal["mandatory", "advisory"]


@dataclass(frozen=True)
class Policy:
    name: str
    enforcement: Enforcement
    kind: Literal["resource", "stack"]
    validate: Callable[..., None]
    # JSON-schema properties of the policy's config (CrossGuard's PolicyConfigSchema).
    config: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def description(self) -> str:
        return (self.validate.__doc__ or self.name).strip().splitlines()[0]


def _list(items: str, default: list[Any], description: str) -> dict[str, Any]:
    return {"type": "array", "items": {"type": items}, "default": default, "description": description}


def _days(default: int, description: str) -> dict[str, Any]:
    return {"type": "integer", "minimum": 1, "default": default, "description": description}


PRODUCTION = {
    "production": {"type": "boolean", "default": False, "description": "the stack is a production one"}
}
REGISTRY_IDS = {
    "registryIds": _list(
        "string",
        [],
        "the stack's own Container Registry ids: the only ones on cr.yandex images may come from",
    )
}

POLICIES: tuple[Policy, ...] = (
    Policy(
        "images-by-digest",
        "mandatory",
        "resource",
        pods.images_by_digest,
        {
            "allowedRegistries": _list(
                "string", ["cr.yandex/"], "image name prefixes workloads may pull from"
            ),
            **REGISTRY_IDS,
        },
    ),
    Policy("images-from-own-registry", "mandatory", "stack", pods.images_from_own_registry, REGISTRY_IDS),
    Policy("no-host-access", "mandatory", "resource", pods.no_host_access),
    Policy("containers-locked-down", "mandatory", "resource", pods.containers_locked_down),
    Policy("buckets-locked-down", "mandatory", "resource", data.buckets_locked_down),
    Policy(
        "postgres-backed-up",
        "mandatory",
        "stack",
        data.postgres_backed_up,
        {"minimumRetentionDays": _days(7, "backup floor")},
    ),
    Policy("lockbox-encrypted", "mandatory", "resource", secrets.lockbox_encrypted),
    Policy("no-secret-literals", "mandatory", "resource", secrets.no_secret_literals),
    Policy("secrets-not-in-code", "mandatory", "resource", secrets.secrets_not_in_code),
    Policy("no-primitive-roles", "mandatory", "resource", access.no_primitive_roles),
    Policy(
        "security-groups-closed",
        "mandatory",
        "resource",
        network.security_groups_closed,
        {
            "publicNodePorts": _list(
                "integer", [], "NodePorts clients may reach through the load balancer (the ingress's)"
            )
        },
    ),
    Policy(
        "admin-ports-closed",
        "mandatory",
        "resource",
        network.admin_ports_closed,
        {
            "apiAllowedCidrs": _list(
                "string", [], "who may reach the Kubernetes API (cluster.api_allowed_cidrs, when public)"
            )
        },
    ),
    Policy("no-wildcard-roles", "mandatory", "resource", access.no_wildcard_roles),
    Policy("no-public-database", "mandatory", "resource", exposure.no_public_database),
    Policy("ingress-tls", "mandatory", "resource", exposure.ingress_tls),
    Policy("no-trust-auth", "mandatory", "resource", exposure.no_trust_auth),
    Policy("nodes-private", "mandatory", "resource", network.nodes_private),
    Policy("prod-stateful-protected", "mandatory", "stack", data.prod_stateful_protected, PRODUCTION),
    Policy("prod-api-private", "mandatory", "stack", network.prod_api_private, PRODUCTION),
    Policy(
        "secrets-rotated",
        "advisory",
        "stack",
        secrets.secrets_rotated,
        {
            "rotationDays": _days(90, "rotation period"),
            "now": {
                "type": "string",
                "description": "the time to measure ages against (ISO 8601); default now",
            },
        },
    ),
    Policy(
        "user-facing-replicas",
        "advisory",
        "resource",
        pods.user_facing_replicas,
        {
            **PRODUCTION,
            "userFacing": _list(
                "string", ["api", "frontend"], "app.kubernetes.io/component values users reach"
            ),
        },
    ),
    Policy("workloads-have-budgets", "advisory", "stack", pods.workloads_have_budgets),
    Policy("recommended-labels", "advisory", "resource", pods.recommended_labels),
)


def defaults(policy: Policy) -> dict[str, Any]:
    return {key: spec["default"] for key, spec in policy.config.items() if "default" in spec}
