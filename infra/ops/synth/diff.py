"""What the program renders differently for a stack: two synth builds compared.

Resources are keyed by URN (from `resources.json`). One present only in the
change is added, only in the base removed; one in both whose inputs differ
is changed, input by input. Whether a change updates a resource in place or
replaces it is the providers' to say, so it is left to the real `pulumi
preview` (the PR workflow runs it beside this diff). Changes under a
resource's `ignore_changes` are left out, as Pulumi leaves them. Secrets are
`[secret]` on both sides of a synth build, so a change of a secret's value
alone does not show, and none is ever printed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Resource = Mapping[str, Any]
Path_ = tuple[str | int, ...]
_MISSING = object()
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_REDACTED = "[secret]"


@dataclass(frozen=True)
class Change:
    """One input that differs: where, and what it was and is (JSON values; _MISSING when absent)."""

    path: Path_
    old: Any
    new: Any

    @property
    def where(self) -> str:
        return format_path(self.path)

    def values(self) -> str:
        """`old -> new`: short values whole, long texts by the part that differs, secrets never."""
        if isinstance(self.old, str) and isinstance(self.new, str) and _REDACTED not in (self.old, self.new):
            return " -> ".join(excerpts(self.old, self.new))
        return f"{show(self.old)} -> {show(self.new)}"


@dataclass(frozen=True)
class ResourceChange:
    action: str  # added, removed, changed
    urn: str
    type: str
    name: str
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True)
class StackDiff:
    stack: str
    resources: tuple[ResourceChange, ...]
    outputs: tuple[Change, ...]
    unchanged: int

    @property
    def empty(self) -> bool:
        return not self.resources and not self.outputs

    def count(self, action: str) -> int:
        return sum(1 for r in self.resources if r.action == action)


def format_path(path: Path_) -> str:
    """`('spec', 'containers', 0, 'image')` -> `spec.containers[0].image`; odd keys in brackets."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        # A resource option rather than an input, e.g. `(protect)`.
        elif _PLAIN_KEY.match(part) or (part.startswith("(") and part.endswith(")")):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text or "(whole)"


def show(value: Any) -> str:
    """A value fit for a terminal or a PR comment: short scalars as JSON, anything else by size."""
    if value is _MISSING:
        return "(none)"
    if value == _REDACTED:
        return _REDACTED
    if isinstance(value, dict):
        return f"{{{len(value)} keys}}"
    if isinstance(value, list):
        return f"[{len(value)} items]"
    text = json.dumps(value)
    if isinstance(value, str) and (len(text) > 60 or "\n" in value):
        return f"({len(value)} characters)"
    return text


def excerpts(old: str, new: str, context: int = 16, longest: int = 60) -> tuple[str, str]:
    """Two texts as JSON strings; long ones cut to the part that differs, with `context` around it."""
    if max(len(old), len(new)) <= longest:
        return json.dumps(old), json.dumps(new)
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end = 0
    while end < min(len(old), len(new)) - start and old[-1 - end] == new[-1 - end]:
        end += 1

    def cut(text: str) -> str:
        first, last = max(0, start - context), min(len(text), len(text) - end + context)
        middle = json.dumps(text[first:last])[1:-1]
        if len(middle) > longest + 2 * context:
            middle = middle[: longest + 2 * context] + "…"
        return '"' + ("…" if first else "") + middle + ("…" if last < len(text) else "") + '"'

    return cut(old), cut(new)


def changes(old: Any, new: Any, path: Path_ = ()) -> Iterator[Change]:
    """Every leaf where `old` and `new` differ; lists compare item by item, as Pulumi's diff does."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            yield from changes(old.get(key, _MISSING), new.get(key, _MISSING), (*path, key))
    elif isinstance(old, list) and isinstance(new, list):
        for index in range(max(len(old), len(new))):
            yield from changes(
                old[index] if index < len(old) else _MISSING,
                new[index] if index < len(new) else _MISSING,
                (*path, index),
            )
    # 5432 and 5432.0 are one value: builds from before whole numbers were ints compare equal.
    elif old != new:
        yield Change(path, old, new)


def _ignored(path: Path_, ignore_changes: Sequence[str]) -> bool:
    where = format_path(path)
    return any(
        where == ignored or where.startswith((f"{ignored}.", f"{ignored}[")) for ignored in ignore_changes
    )


def _compare(old: Resource, new: Resource) -> ResourceChange | None:
    ignore = list(new.get("ignore_changes") or [])
    found = [c for c in changes(old["inputs"], new["inputs"]) if not _ignored(c.path, ignore)]
    if old.get("protect") != new.get("protect"):
        found.append(Change(("(protect)",), old.get("protect"), new.get("protect")))
    if not found:
        return None
    return ResourceChange("changed", new["urn"], new["type"], new["name"], tuple(found))


def diff_resources(base: Sequence[Resource], head: Sequence[Resource]) -> list[ResourceChange]:
    """The resource changes from `base` to `head` (resources.json lists), ordered by URN.

    A new kind or apiVersion is a new URN: the old resource shows removed and the new one added.
    """
    old = {r["urn"]: r for r in base}
    new = {r["urn"]: r for r in head}
    found = [ResourceChange("removed", u, r["type"], r["name"]) for u, r in old.items() if u not in new]
    found += [ResourceChange("added", u, r["type"], r["name"]) for u, r in new.items() if u not in old]
    for urn in sorted(set(old) & set(new)):
        change = _compare(old[urn], new[urn])
        if change:
            found.append(change)
    return sorted(found, key=lambda c: c.urn)


def read_build(build: Path, name: str = "resources.json") -> Any:
    return json.loads((build / name).read_text())


def diff_builds(stack: str, base: Path, head: Path) -> StackDiff:
    head_resources = read_build(head)
    resources = diff_resources(read_build(base), head_resources)
    outputs = tuple(changes(read_build(base, "outputs.json"), read_build(head, "outputs.json")))
    touched = {r.urn for r in resources}
    unchanged = sum(1 for r in head_resources if r["urn"] not in touched)
    return StackDiff(stack=stack, resources=tuple(resources), outputs=outputs, unchanged=unchanged)
