"""Applying a restore: the stack's `restore` config, then an update of the recovery cluster alone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pulumi import automation as auto

from infra.conventions import RESTORE_KEY as KEY
from infra.ops.automation.stack import OperationError, policy_options, select
from infra.render.database.restore import RestorePlan


def apply_restore(plan: RestorePlan, project_dir: Path, on_output: Callable[[str], None]) -> None:
    """Record the request in the stack's config and create the recovery cluster.

    The update targets the recovery cluster's URN: nothing else in the stack
    changes, whatever else differs. On failure the config is put back as it
    was, so the stack is left as before.
    """
    stack = select(plan.stack, project_dir)
    # Under the policy pack, as every update is.
    policies = policy_options(plan.stack, project_dir)
    previous = {k: v for k, v in stack.get_all_config().items() if k == KEY or k.startswith(f"{KEY}.")}
    stack.set_config(f"{KEY}.into", auto.ConfigValue(plan.request.into), path=True)
    if plan.request.target_time is not None:
        stack.set_config(
            f"{KEY}.target_time", auto.ConfigValue(plan.request.target_time.isoformat()), path=True
        )
    try:
        on_output(f"preview of {plan.urn}\n")
        stack.preview(target=[plan.urn], on_output=on_output, **policies)
        stack.up(target=[plan.urn], on_output=on_output, **policies)
    except auto.errors.CommandError as error:
        stack.remove_config(KEY, path=True)
        for key, value in previous.items():
            stack.set_config(key, value)
        raise OperationError(
            f"restore into {plan.request.into} failed; the stack's config is as before:\n{error}"
        ) from None
