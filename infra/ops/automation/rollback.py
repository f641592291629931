"""Rollback through the Automation API: the previous release's digests, a checked preview, an update.

The stack's `samokoder:release` config is set to the target release, with
Flagger's analysis skipped (the target proved itself when it was released: the
API's Canary promotes it at Flagger's next ticks, infra/render/workloads/canary.py);
a preview must show updates of Deployments and of the Canary and nothing
else, or the config is put back and the rollback refused; then the update
runs. A failed update also puts the config back, and the Deployments' rolling
strategy (``maxUnavailable: 0``) keeps the old pods serving. The preview and
the update run the policy pack (``policy_options``), as the workflows' `up` does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pulumi import automation as auto

from infra.conventions import RELEASE_KEY
from infra.ops.automation.stack import (
    OperationError,
    Step,
    policy_options,
    preview_steps,
    registry_ids,
    select,
)
from infra.ops.releases.history import Release, RollbackPlan

# What a rollback may change: the image of a Deployment, and the Canary's skipAnalysis, in place.
ALLOWED = {("update", "kubernetes:apps/v1:Deployment"), ("update", "kubernetes:flagger.app/v1beta1:Canary")}
NEUTRAL_OPS = {"same", "read", "refresh"}


def unexpected(steps: Iterable[Step]) -> list[Step]:
    """The steps of a preview a rollback must not make: anything but updating Deployments and the Canary."""
    return [s for s in steps if s.op not in NEUTRAL_OPS and (s.op, s.type) not in ALLOWED]


def load_history(stack_name: str, project_dir: Any) -> list[dict[str, Any]]:
    """The stack's history in the JSON shape `pulumi stack history --json` prints."""
    return [
        {
            "kind": update.kind,
            "version": update.version,
            "result": update.result,
            "startTime": update.start_time.isoformat() if update.start_time else "",
            "endTime": update.end_time.isoformat() if update.end_time else "",
            "config": {
                key: {"value": value.value, "secret": value.secret} for key, value in update.config.items()
            },
        }
        for update in select(stack_name, project_dir).history()
    ]


def _set_release(stack: auto.Stack, release: Release, *, skip_analysis: bool) -> None:
    values = {"id": release.id, "migration_revision": release.migration_revision}
    values |= {f"images.{service}": digest for service, digest in release.images.items()}
    values["skip_analysis"] = "true" if skip_analysis else "false"
    for key, value in values.items():
        stack.set_config(f"{RELEASE_KEY}.{key}", auto.ConfigValue(value), path=True)


def roll_back(
    stack_name: str, project_dir: Any, plan: RollbackPlan, on_output: Callable[[str], None]
) -> None:
    stack = select(stack_name, project_dir)
    policies = policy_options(stack_name, project_dir, registry_ids(stack))
    _set_release(stack, plan.target, skip_analysis=True)
    try:
        on_output(f"previewing the rollback to {plan.target.id} ...\n")
        wrong = unexpected(preview_steps(stack, **policies))
        if wrong:
            _set_release(stack, plan.current, skip_analysis=False)
            listed = "\n".join(f"  {s.op} {s.type} {s.urn}" for s in wrong)
            raise OperationError(
                "the preview changes more than the Deployments' images and the Canary; "
                f"nothing was applied:\n{listed}"
            )
        stack.up(on_output=on_output, **policies)
    except auto.errors.CommandError as error:
        _set_release(stack, plan.current, skip_analysis=False)
        raise OperationError(
            f"the rollback failed; the stack's release config is back to {plan.current.id}:\n{error}"
        ) from None
