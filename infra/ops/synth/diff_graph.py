"""The stack's picture with a change coloured on it: what is added, changed, removed."""

from __future__ import annotations

from pathlib import Path

from infra.ops.synth.diff import StackDiff, read_build
from infra.ops.synth.graph import to_dot
from infra.ops.synth.svg import render_svg


def changes_dot(diff: StackDiff, base: Path, head: Path) -> str:
    """DOT of the change's build, removed resources drawn dashed where they were."""
    marks = {change.urn: change.action for change in diff.resources}
    removed = [r for r in read_build(base) if marks.get(r["urn"]) == "removed"]
    counts = ", ".join(
        f"{sum(1 for a in marks.values() if a == action)} {action}" for action in sorted(set(marks.values()))
    )
    title = f"{diff.stack}: {counts or 'no changes'}"
    return to_dot([*read_build(head), *removed], title=title, marks=marks)


def changes_svg(diff: StackDiff, base: Path, head: Path) -> bytes:
    return render_svg(changes_dot(diff, base, head))
