"""A stack's policy configuration, from its settings: what `--policy-pack-config` and `check` use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from infra.conventions import INGRESS_NODE_PORTS
from infra.policy.catalog import POLICIES
from infra.settings.database import BACKUP_RETENTION_FLOOR_DAYS, PRODUCTION_BACKUP_RETENTION_FLOOR_DAYS
from infra.settings.stack import StackSettings
from stacks import PRODUCTION_STACKS

# Images not built by this program, each pinned by digest where it is rendered.
THIRD_PARTY_REGISTRIES = ("docker.io/library/redis:",)


def policy_config(settings: StackSettings, registry_ids: Sequence[str] = ()) -> dict[str, dict[str, Any]]:
    """Per policy: its config for this stack (the shape of a policy pack config file).

    Images may come from this stack's own registry (``cr.yandex/<its id>/``,
    when its id is known: ``registry_ids``; the ``images-from-own-registry``
    policy also reads it from the stack's registry resources) and the few
    third-party images the renderers pin.
    """
    production = settings.stack in PRODUCTION_STACKS
    own = sorted(set(registry_ids))
    registries = [f"cr.yandex/{i}/" for i in own] or ["cr.yandex/"]
    floor = PRODUCTION_BACKUP_RETENTION_FLOOR_DAYS if production else BACKUP_RETENTION_FLOOR_DAYS
    specific: dict[str, dict[str, Any]] = {
        "images-by-digest": {
            "allowedRegistries": [*registries, *THIRD_PARTY_REGISTRIES],
            "registryIds": own,
        },
        "images-from-own-registry": {"registryIds": own},
        "postgres-backed-up": {"minimumRetentionDays": floor},
        "security-groups-closed": {"publicNodePorts": sorted(INGRESS_NODE_PORTS.values())},
        "admin-ports-closed": {
            "apiAllowedCidrs": [str(c) for c in settings.cluster.api_allowed_cidrs]
            if settings.cluster.public_api
            else []
        },
        "prod-api-private": {"production": production},
        "prod-stateful-protected": {"production": production},
        "user-facing-replicas": {"production": production},
        "secrets-rotated": {"rotationDays": settings.secrets_policy.rotation_days},
    }
    return {
        policy.name: {"enforcementLevel": policy.enforcement, **specific.get(policy.name, {})}
        for policy in POLICIES
    }
