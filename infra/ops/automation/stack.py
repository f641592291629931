"""Selecting a stack through the Automation API, with a clear error where the CLI is missing."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi import automation as auto

# Re-exported: where the operations and their callers have always imported it from.
from infra.ops.automation import OperationError as OperationError  # noqa: PLC0414

POLICY_PACK = "policy"


def select(stack: str, project_dir: Path) -> auto.Stack:
    if shutil.which("pulumi") is None:
        raise OperationError(
            "the pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/install/) and log in "
            "to the state backend (docs/first-deploy.md, step 7) before applying"
        )
    return auto.select_stack(stack_name=stack, work_dir=str(project_dir))


def policy_options(stack: str, project_dir: Path, registry_ids: list[str] | None = None) -> dict[str, Any]:
    """The policy pack and its configuration for this stack, as `preview` and `up` take them.

    The same pack and config the workflows pass to `pulumi up`
    (``--policy-pack policy --policy-pack-config build/<stack>/policy-config.json``):
    every operation through the Automation API runs under the policies. The
    pack has its own environment (``policy/PulumiPolicy.yaml``: ``venv``).
    """
    from infra.ops.check.config import policy_config  # noqa: PLC0415
    from infra.ops.cli.common import stack_settings  # noqa: PLC0415
    from infra.settings.loader import ConfigError  # noqa: PLC0415

    pack = project_dir / POLICY_PACK
    if not (pack / "venv" / "bin" / "python").is_file():
        raise OperationError(
            f"the policy pack's environment is missing: python -m venv {pack}/venv && "
            f"{pack}/venv/bin/pip install -r {pack}/requirements.txt"
        )
    try:
        settings = stack_settings(stack, project_dir)
    except ConfigError as error:
        raise OperationError(str(error)) from None
    config_file = project_dir / "build" / stack / "policy-config.json"
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config = policy_config(settings, registry_ids or ())
    config_file.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    return {"policy_packs": [str(pack)], "policy_pack_configs": [str(config_file)]}


def registry_ids(stack: auto.Stack) -> list[str]:
    """The stack's registry, for the policy that checks image references (none before the first update)."""
    registry = stack.outputs().get("registry_id")
    return [str(registry.value)] if registry is not None and registry.value else []


@dataclass(frozen=True)
class Step:
    """One step of a preview: its op (create, update, same, ...), the resource's type and URN."""

    op: str
    type: str
    urn: str


def preview_steps(stack: auto.Stack, **options: Any) -> list[Step]:
    """What an update would do, step by step, as the engine's preview events tell it."""
    steps: list[Step] = []

    def record(event: auto.EngineEvent) -> None:
        pre = event.resource_pre_event
        if pre is not None and pre.metadata is not None:
            steps.append(Step(str(pre.metadata.op.value), pre.metadata.type, pre.metadata.urn))

    stack.preview(on_event=record, **options)
    return steps
