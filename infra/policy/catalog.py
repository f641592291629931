"""Which validators are policies, how strictly, and what they may be configured with.

Standard library only, like the validators: the CrossGuard pack (``policy/``)
imports this to build its ``PolicyPack``; ``samokoder-infra check`` runs the
same list offline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from infra.policy import validators as v

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


PRODUCTION = {
    "production": {"type": "boolean", "default": False, "description": "the stack is a production one"}
}

REGISTRY_IDS: dict[str, Any] = {
    "type": "array",
    "items": {"type": "string"},
    "default": [],
    "description": "the stack's own Container Registry ids: the only ones on cr.yandex images may come from",
}

POLICIES: tuple[Policy, ...] = (
    Policy(
        "images-by-digest",
        "mandatory",
        "resource",
        v.images_by_digest,
        {
            "allowedRegistries": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["cr.yandex/"],
                "description": "image name prefixes workloads may pull from",
            },
            **{"registryIds": REGISTRY_IDS},
        },
    ),
    Policy(
        "images-from-own-registry",
        "mandatory",
        "stack",
        v.images_from_own_registry,
        {"registryIds": REGISTRY_IDS},
    ),
    Policy("no-host-access", "mandatory", "resource", v.no_host_access),
    Policy("containers-locked-down", "mandatory", "resource", v.containers_locked_down),
    Policy("buckets-locked-down", "mandatory", "resource", v.buckets_locked_down),
    Policy(
        "postgres-backed-up",
        "mandatory",
        "stack",
        v.postgres_backed_up,
        {
            "minimumRetentionDays": {
                "type": "integer",
                "minimum": 1,
                "default": 7,
                "description": "backup floor",
            }
        },
    ),
    Policy("lockbox-encrypted", "mandatory", "resource", v.lockbox_encrypted),
    Policy("no-secret-literals", "mandatory", "resource", v.no_secret_literals),
    Policy("secrets-not-in-code", "mandatory", "resource", v.secrets_not_in_code),
    Policy("no-primitive-roles", "mandatory", "resource", v.no_primitive_roles),
    Policy(
        "security-groups-closed",
        "mandatory",
        "resource",
        v.security_groups_closed,
        {
            "publicNodePorts": {
                "type": "array",
                "items": {"type": "integer"},
                "default": [],
                "description": "NodePorts clients may reach through the load balancer (the ingress's)",
            }
        },
    ),
    Policy(
        "admin-ports-closed",
        "mandatory",
        "resource",
        v.admin_ports_closed,
        {
            "apiAllowedCidrs": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "who may reach the Kubernetes API (cluster.api_allowed_cidrs, when public)",
            }
        },
    ),
    Policy("no-wildcard-roles", "mandatory", "resource", v.no_wildcard_roles),
    Policy("no-public-database", "mandatory", "resource", v.no_public_database),
    Policy("ingress-tls", "mandatory", "resource", v.ingress_tls),
    Policy("no-trust-auth", "mandatory", "resource", v.no_trust_auth),
    Policy("nodes-private", "mandatory", "resource", v.nodes_private),
    Policy("prod-stateful-protected", "mandatory", "stack", v.prod_stateful_protected, PRODUCTION),
    Policy("prod-api-private", "mandatory", "stack", v.prod_api_private, PRODUCTION),
    Policy(
        "secrets-rotated",
        "advisory",
        "stack",
        v.secrets_rotated,
        {
            "rotationDays": {
                "type": "integer",
                "minimum": 1,
                "default": 90,
                "description": "rotation period",
            },
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
        v.user_facing_replicas,
        {
            **PRODUCTION,
            "userFacing": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["api", "frontend"],
                "description": "app.kubernetes.io/component values users reach",
            },
        },
    ),
    Policy("workloads-have-budgets", "advisory", "stack", v.workloads_have_budgets),
    Policy("recommended-labels", "advisory", "resource", v.recommended_labels),
)


def defaults(policy: Policy) -> dict[str, Any]:
    return {key: spec["default"] for key, spec in policy.config.items() if "default" in spec}
