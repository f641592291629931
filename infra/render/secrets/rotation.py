"""Rotation stamps: what a group's generated values are keyed on."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from infra.settings.secrets import SecretGroup

NEVER_ROTATED = "initial"


def rotation_stamp(rotation: Mapping[SecretGroup, datetime], group: SecretGroup) -> str:
    """The group's last requested rotation, or a constant until the first one."""
    stamp = rotation.get(group)
    return stamp.isoformat() if stamp else NEVER_ROTATED
