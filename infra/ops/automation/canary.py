"""One step of a canary release through the Automation API: the record written, a checked preview, an update.

The step's release record is written into ``Pulumi.<stack>.yaml`` (the file
the workflow commits once the release is promoted), the preview must keep to
the step's rules (infra/ops/canary/blast.py) or the file is put back and
nothing is applied, and the update runs under the policy pack, as the
workflows' `up` does. A failed update leaves the step's record in the file:
the pipeline's next step (an abort, or putting the previous release back)
writes its own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pulumi import automation as auto

from infra.ops.automation.stack import OperationError, policy_options, preview_steps, registry_ids, select
from infra.ops.canary.blast import Change, outside, preview_op, revisions
from infra.ops.canary.pipeline import StepFailed
from infra.ops.canary.transitions import StepKind
from infra.ops.releases.record import Recorded, write_release


def apply_step(
    stack_name: str,
    project_dir: Path,
    kind: StepKind,
    before: Recorded,
    after: Recorded,
    *,
    on_output: Callable[[str], None],
) -> None:
    path = project_dir / f"Pulumi.{stack_name}.yaml"
    original = path.read_text()
    path.write_text(write_release(original, after))
    try:
        stack = select(stack_name, project_dir)
        policies = policy_options(stack_name, project_dir, registry_ids(stack))
        on_output(f"previewing the canary's {kind} step ...\n")
        changes = [
            Change(op, step.type, step.name)
            for step in preview_steps(stack, **policies)
            if (op := preview_op(step.op)) is not None
        ]
    except (OperationError, auto.errors.CommandError) as error:
        path.write_text(original)
        raise StepFailed(f"the {kind} step's preview failed; nothing was applied:\n{error}") from None
    wrong = outside(kind, changes, **revisions(kind, before, after))
    if wrong:
        path.write_text(original)
        listed = "\n".join(f"  {change}" for change in wrong)
        raise StepFailed(
            f"the {kind} step's preview changes more than it may; nothing was applied:\n{listed}"
        )
    try:
        stack.up(on_output=on_output, **policies)
    except auto.errors.CommandError as error:
        raise StepFailed(f"the {kind} step's update failed:\n{error}") from None
