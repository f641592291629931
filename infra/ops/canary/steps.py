"""Each step of a canary release synthesized offline and compared with the one before: its blast radius.

The stack file's release record is rewritten for each step (infra/ops/canary/transitions.py)
in a scratch copy of the project, the program is run under synth's mocks,
and consecutive runs are compared with synth's own diff. What each step
changes is then held against the step's rules (infra/ops/canary/blast.py).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.ops.canary import transitions
from infra.ops.canary.blast import SYNTH_ACTIONS, Change, outside, revisions
from infra.ops.canary.transitions import StepKind
from infra.ops.releases.record import Recorded, write_release

if TYPE_CHECKING:
    from infra.ops.synth.runner import Synthesis


@dataclass(frozen=True)
class Step:
    kind: StepKind
    label: str
    before: Recorded
    after: Recorded


@dataclass(frozen=True)
class StepDiff:
    step: Step
    changes: tuple[Change, ...]
    # What the step changes beyond its rules; empty when the program keeps to them.
    beyond: tuple[Change, ...]

    def count(self, op: str) -> int:
        return sum(1 for c in self.changes if c.op == op)


def release_steps(stable: Recorded, next_release: Recorded, weights: Sequence[int]) -> list[Step]:
    """start at the first weight, each next weight, then promote; abort from the last weight beside."""
    steps = []
    current = transitions.start(stable, next_release, weights[0])
    steps.append(Step("start", f"start at {weights[0]} %", stable, current))
    for weight in weights[1:]:
        moved = transitions.set_weight(current, weight)
        steps.append(Step("weight", f"weight {weight} %", current, moved))
        current = moved
    steps.append(Step("promote", "promote", current, transitions.promote(current)))
    steps.append(Step("abort", f"abort (from {weights[-1]} %)", current, transitions.abort(current)))
    return steps


def synthesize_record(stack: str, project_dir: Path, record: Recorded, scratch: Path) -> Synthesis:
    """The stack synthesized with ``record`` as its release, in a copy of the project under ``scratch``."""
    from infra.ops.synth.runner import synthesize  # noqa: PLC0415

    project = Path(tempfile.mkdtemp(dir=scratch))
    shutil.copy(project_dir / "Pulumi.yaml", project / "Pulumi.yaml")
    stack_file = f"Pulumi.{stack}.yaml"
    (project / stack_file).write_text(write_release((project_dir / stack_file).read_text(), record))
    return synthesize(stack, project)


def step_diffs(
    stack: str,
    project_dir: Path,
    steps: Sequence[Step],
    on_progress: Callable[[str], None] = lambda _: None,
) -> list[StepDiff]:
    """Every step's changes, each record synthesized once."""
    from infra.ops.synth.diff import diff_resources  # noqa: PLC0415

    # Keyed by the record's content: the abort's record is the start's stable one.
    built: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix=f"canary-{stack}-") as scratch:

        def resources(record: Recorded) -> list[dict[str, Any]]:
            key = json.dumps(record.as_config(), sort_keys=True)
            if key not in built:
                on_progress(f"synthesizing {stack} with {_describe(record)} ...")
                synthesis = synthesize_record(stack, project_dir, record, Path(scratch))
                built[key] = [r.as_json() for r in synthesis.resources]
            return built[key]

        found = []
        for step in steps:
            changes = tuple(
                Change(SYNTH_ACTIONS[c.action], c.type, c.name)
                for c in diff_resources(resources(step.before), resources(step.after))
            )
            around = revisions(step.kind, step.before, step.after)
            found.append(StepDiff(step, changes, tuple(outside(step.kind, changes, **around))))
    return found


def _describe(record: Recorded) -> str:
    if record.canary is None:
        return f"release {record.id}"
    return f"release {record.id} and canary {record.canary.id} at {record.canary.weight} %"
