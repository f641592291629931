"""What the generated pages are read from: each stack's synthesis, made once, and the rows they share."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from infra.ops.cli.common import DEFAULT_STACK
from infra.ops.reference.markdown import table
from infra.ops.synth.runner import Synthesis, synthesize
from stacks import known_stacks


def stacks() -> tuple[str, ...]:
    """The stacks in the order the pages show them: the default one first."""
    return (DEFAULT_STACK, *(s for s in known_stacks() if s != DEFAULT_STACK))


@dataclass
class Sources:
    """The project's stacks, synthesized on first use (as `samokoder-infra synth` does, offline)."""

    project_dir: Path
    synthesize: Callable[[str, Path], Synthesis] = synthesize
    _made: dict[str, Synthesis] = field(default_factory=dict)

    def synthesis(self, stack: str) -> Synthesis:
        if stack not in self._made:
            self._made[stack] = self.synthesize(stack, self.project_dir)
        return self._made[stack]


Row = tuple[str, ...]


def by_stack(rows: Mapping[str, Sequence[Row]]) -> list[Row]:
    """Each distinct row once, with the stacks that have it as its last cell.

    Each stack's rows keep their order: a row only one stack has goes right
    after that stack's previous row, so ordered lists (routes) stay in order.
    """
    merged: list[Row] = []
    where: dict[Row, list[str]] = {}
    for stack, stack_rows in rows.items():
        anchor = -1
        for row in stack_rows:
            if row not in where:
                merged.insert(anchor + 1, row)
                where[row] = []
            if stack not in where[row]:
                where[row].append(stack)
            anchor = merged.index(row)
    return [(*row, ", ".join(where[row])) for row in merged]


def per_stack(headers: Row, rows_of: Callable[[Synthesis], Sequence[Row]]) -> Callable[[Sources], str]:
    """A block's table of each stack's rows, merged `by_stack` with a last column of the stacks."""
    return lambda sources: table(
        (*headers, "stacks"), by_stack({stack: rows_of(sources.synthesis(stack)) for stack in stacks()})
    )
