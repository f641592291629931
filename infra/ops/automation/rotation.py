"""Marking secrets for rotation: the stack's `rotation` config, read by the next `pulumi up`.

Nothing is regenerated here. The new stamp changes the keepers of the
group's generated values, so the next update makes new ones and Lockbox a
new version; External Secrets then refreshes the Kubernetes Secrets.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from infra.conventions import ROTATION_KEY as KEY
from infra.ops.automation.stack import select


def mark_for_rotation(
    stack_name: str, project_dir: Path, groups: Sequence[str], now: datetime
) -> dict[str, Any]:
    """Stamp each group with ``now``; return the ages the last update recorded."""
    stack = select(stack_name, project_dir)
    outputs = stack.outputs()
    ages = outputs["secret_ages"].value if "secret_ages" in outputs else {}
    for group in groups:
        stack.set_config(f"{KEY}.{group}", auto.ConfigValue(now.isoformat()), path=True)
    return dict(ages)
