"""The offline diff as a terminal reads it, and as a pull-request comment (Markdown)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from infra.ops.synth.diff import Change, ResourceChange, StackDiff

# Pulumi's own symbols for added and removed; a changed resource gets `~` and not `+-`,
# since whether it is updated in place or replaced is the preview's to say.
SYMBOLS = {"added": "+", "removed": "-", "changed": "~"}
VERBS = {"added": "add", "removed": "remove", "changed": "change"}
ORDER = ("changed", "added", "removed")
# Past this many changed inputs a resource's list is cut, with the count of the rest.
MAX_CHANGES = 12
CAVEAT = (
    "This is what the program renders differently, offline. Whether a change updates a resource "
    "in place or replaces it is for the providers to say: read the `pulumi preview` of the stack. "
    "Secret values are redacted in synth, so a change of a secret's value alone does not show."
)


def summary(diff: StackDiff) -> str:
    """`2 to change, 0 to add, 0 to remove; 110 unchanged`."""
    counts = ", ".join(f"{diff.count(action)} to {VERBS[action]}" for action in ORDER)
    outputs = f"; {len(diff.outputs)} output(s) changed" if diff.outputs else ""
    return f"{counts}; {diff.unchanged} unchanged{outputs}"


def _ordered(diff: StackDiff) -> list[ResourceChange]:
    return sorted(diff.resources, key=lambda r: (ORDER.index(r.action), r.type, r.name))


def _cut(items: Sequence[Change]) -> tuple[Sequence[Change], int]:
    return items[:MAX_CHANGES], max(0, len(items) - MAX_CHANGES)


def text(diffs: Sequence[StackDiff], base: str) -> str:
    lines = []
    for diff in diffs:
        lines.append(f"{diff.stack}: {base} -> working tree")
        if diff.empty:
            lines.append(f"  no changes ({diff.unchanged} resources)")
            continue
        lines.append(f"  {summary(diff)}")
        for change in _ordered(diff):
            lines.append(
                f"  {SYMBOLS[change.action]:<2} {VERBS[change.action]:<7} {change.type}  {change.name}"
            )
            shown, more = _cut(change.changes)
            lines += [f"        {c.where}: {c.values()}" for c in shown]
            if more:
                lines.append(f"        ... and {more} more")
        if diff.outputs:
            lines.append("  outputs:")
            lines += [f"        {c.where}: {c.values()}" for c in diff.outputs]
    return "\n".join([*lines, "", CAVEAT]) + "\n"


def _code(value: str) -> str:
    """Inline code in a table cell: pipes escaped, backticks kept out of the span."""
    return "`" + value.replace("`", "'").replace("|", "\\|") + "`"


def _cell(change: ResourceChange) -> str:
    shown, more = _cut(change.changes)
    parts = [f"{_code(c.where)}: {_code(c.values())}" for c in shown]
    if more:
        parts.append(f"… and {more} more")
    return "<br>".join(parts) or "—"


def markdown(diffs: Sequence[StackDiff], base: str, canary: Mapping[str, Sequence[str]] | None = None) -> str:
    """The report for a pull-request comment: a section and a table per stack, each followed by
    what the stack's canary will be judged on when ``canary`` holds it (Markdown list items)."""
    sections = [f"### Offline diff against {base}"]
    for diff in diffs:
        sections.append(f"#### `{diff.stack}`")
        sections += _stack_section(diff)
        if canary and canary.get(diff.stack):
            sections += ["##### Canary: what the release is judged on", "\n".join(canary[diff.stack])]
    sections.append(f"<sub>{CAVEAT}</sub>")
    return "\n\n".join(sections) + "\n"


def _stack_section(diff: StackDiff) -> list[str]:
    if diff.empty:
        return [f"No changes ({diff.unchanged} resources)."]
    rows = ["| | resource | type | what changes |", "|---|---|---|---|"]
    for change in _ordered(diff):
        rows.append(
            f"| {VERBS[change.action]} | {_code(change.name)} | {_code(change.type)} | {_cell(change)} |"
        )
    if diff.outputs:
        cells = "<br>".join(f"{_code(c.where)}: {_code(c.values())}" for c in diff.outputs)
        rows.append(f"| output | | | {cells} |")
    return [summary(diff) + ".", "\n".join(rows)]
