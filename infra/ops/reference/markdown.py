"""Markdown tables, and the generated blocks of a page between their markers."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

COMMAND = "python -m infra.ops.reference"
# Between the ends of a range, as in "1 to 50" (an en dash, which reads better than a hyphen).
DASH = "\N{EN DASH}"


def cell(text: str) -> str:
    """One table cell: on one line, its pipes escaped (GitHub's tables split on them, even in code)."""
    return " ".join(text.split()).replace("|", "\\|")


def code(text: object) -> str:
    return f"`{text}`"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def markers(name: str) -> tuple[str, str]:
    """The lines that open and close a generated block, to paste into a page before its first generation."""
    return (f"<!-- generated: {name} ({COMMAND}); do not edit by hand -->", f"<!-- end generated: {name} -->")


class MissingBlock(ValueError):
    """The page has no markers for a block the generator fills."""


def fill(page: str, name: str, content: str) -> str:
    begin, end = markers(name)
    pattern = re.compile(re.escape(begin) + r"\n.*?" + re.escape(end), re.DOTALL)
    if not pattern.search(page):
        raise MissingBlock(f"no block {name!r}: the page needs the lines\n{begin}\n{end}")
    return pattern.sub(lambda _: f"{begin}\n{content.rstrip()}\n{end}", page, count=1)
