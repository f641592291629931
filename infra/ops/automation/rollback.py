"""Rollback through the Automation API: the previous release's digests, a checked preview, an update.

The stack's `samokoder:release` config is set to the target release; a
preview must show updates of Deployments and nothing else, or the config is
put back and the rollback refused; then the update runs. A failed update
also puts the config back, and the Deployments' rolling strategy
(``maxUnavailable: 0``) keeps the old pods serving. The preview and the
update run the policy pack (``policy_options``), as the workflows' `up` does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
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
from infra.ops.canary.blast import is_canary_object, is_migration_of
from infra.ops.releases.history import Release, RollbackPlan

KEY = RELEASE_KEY
# What a rollback may change: the image of a Deployment, in place.
ALLOWED = {("update", "kubernetes:apps/v1:Deployment")}
NEUTRAL_OPS = {"same", "read", "refresh"}


def unexpected(steps: Iterable[Step], canary_revision: str | None = None) -> list[Step]:
    """The steps of a preview a rollback must not make: anything but updating Deployments.

    A canary running beside the current release goes with the rollback: deleting its
    objects, and its own migration's (``canary_revision``, when it moved the schema), is allowed.
    """

    def allowed(step: Step) -> bool:
        if step.op in NEUTRAL_OPS or (step.op, step.type) in ALLOWED:
            return True
        return step.op == "delete" and (
            is_canary_object(step.name) or is_migration_of(step.type, step.name, canary_revision)
        )

    return [s for s in steps if not allowed(s)]


def history_records(stack: auto.Stack) -> list[dict[str, Any]]:
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
        for update in stack.history()
    ]


def load_history(stack_name: str, project_dir: Any) -> list[dict[str, Any]]:
    return history_records(select(stack_name, project_dir))


def _release_values(release: Release) -> Mapping[str, str]:
    values = {f"{KEY}.id": release.id, f"{KEY}.migration_revision": release.migration_revision}
    values.update({f"{KEY}.images.{service}": digest for service, digest in release.images.items()})
    canary = release.canary
    if canary is not None:
        values.update({f"{KEY}.canary.{k}": str(canary[k]) for k in ("id", "migration_revision", "weight")})
        values.update({f"{KEY}.canary.images.{s}": str(d) for s, d in canary["images"].items()})
    return values


def _canary_revision(release: Release) -> str | None:
    """The schema of the canary running beside ``release``, when it moved it."""
    canary = release.canary
    if canary is None or canary.get("migration_revision") == release.migration_revision:
        return None
    return str(canary.get("migration_revision"))


def roll_back(
    stack_name: str, project_dir: Any, plan: RollbackPlan, on_output: Callable[[str], None]
) -> None:
    stack = select(stack_name, project_dir)
    policies = policy_options(stack_name, project_dir, registry_ids(stack))
    # The target runs alone: a rollback never goes back to a canary.
    if plan.current.canary is not None:
        stack.remove_config(f"{KEY}.canary", path=True)
    for key, value in _release_values(replace(plan.target, canary=None)).items():
        stack.set_config(key, auto.ConfigValue(value), path=True)

    def put_back() -> None:
        for key, value in _release_values(plan.current).items():
            stack.set_config(key, auto.ConfigValue(value), path=True)

    try:
        on_output(f"previewing the rollback to {plan.target.id} ...\n")
        wrong = unexpected(preview_steps(stack, **policies), _canary_revision(plan.current))
        if wrong:
            put_back()
            listed = "\n".join(f"  {s.op} {s.type} {s.urn}" for s in wrong)
            raise OperationError(
                f"the preview changes more than the Deployments' images; nothing was applied:\n{listed}"
            )
        stack.up(on_output=on_output, **policies)
    except auto.errors.CommandError as error:
        put_back()
        raise OperationError(
            f"the rollback failed; the stack's release config is back to {plan.current.id}:\n{error}"
        ) from None
