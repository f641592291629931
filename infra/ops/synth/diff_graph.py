"""The stack's picture with a change coloured on it: what is added, changed, removed."""

from __future__ import annotations

import json
from pathlib import Path

from infra.ops.synth.diff import StackDiff
from infra.ops.synth.graph import to_dot
from infra.ops.synth.svg import render_svg


def changes_dot(diff: StackDiff, base: Path, head: Path) -> str:
    """DOT of the change's build, removed resources drawn dashed where they were."""
    marks = {change.urn: change.action for change in diff.resources}
    head_resources = json.loads((head / "resources.json").read_text())
    removed = [
        r for r in json.loads((base / "resources.json").read_text()) if marks.get(r["urn"]) == "removed"
    ]
    counts = ", ".join(
        f"{sum(1 for a in marks.values() if a == action)} {action}" for action in sorted(set(marks.values()))
    )
    title = f"{diff.stack}: {counts or 'no changes'}"
    return to_dot([*head_resources, *removed], title=title, marks=marks)


def changes_svg(diff: StackDiff, base: Path, head: Path) -> bytes:
    return render_svg(changes_dot(diff, base, head))
