"""A stack's policy configuration, from its settings: what `--policy-pack-config` and `check` use."""

from __future__ import annotations

from typing import Any

from infra.policy.catalog import POLICIES
from infra.settings.database import BACKUP_RETENTION_FLOOR_DAYS, PRODUCTION_BACKUP_RETENTION_FLOOR_DAYS
from infra.settings.stack import StackSettings
from stacks import PRODUCTION_STACKS


def policy_config(settings: StackSettings) -> dict[str, dict[str, Any]]:
    """Per policy: its config for this stack (the shape of a policy pack config file)."""
    production = settings.stack in PRODUCTION_STACKS
    floor = PRODUCTION_BACKUP_RETENTION_FLOOR_DAYS if production else BACKUP_RETENTION_FLOOR_DAYS
    specific: dict[str, dict[str, Any]] = {
        "postgres-backed-up": {"minimumRetentionDays": floor},
        "prod-stateful-protected": {"production": production},
        "user-facing-replicas": {"production": production},
        "secrets-rotated": {"rotationDays": settings.secrets_policy.rotation_days},
    }
    return {
        policy.name: {"enforcementLevel": policy.enforcement, **specific.get(policy.name, {})}
        for policy in POLICIES
    }
