"""The Alembic revision graph of the app's scripts, read with ast (the scripts are never imported).

Alembic scripts name themselves and their parents at module level, plain or
typed: ``revision = "<12 hex digits>"``, ``revision: str = "sec_001"``,
``down_revision: Union[str, None] = ("a", "b")``. Every ``*.py`` under the
versions directory that assigns ``revision`` is a script; others
(``__init__.py``, helpers) are skipped.

The graph refuses what Alembic would refuse: two scripts of one revision, a
``down_revision`` that no script is, a cycle. It gives the heads (the
revisions no script names as a parent), each revision's ancestors, the
scripts parents first (ties by file) and the heads a name stands for
(``heads_named``: a release names its heads with ``migrations.migration_revision``,
a fingerprint this module does not compute).
"""

from __future__ import annotations

import ast
import heapq
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

# The most heads a name is searched among (the app has three).
MAX_HEADS = 4


class MigrationsError(ValueError):
    """The scripts cannot be read as an Alembic history; the message names the file."""


@dataclass(frozen=True)
class Script:
    """One Alembic revision script: its file, its revision and the revisions it follows."""

    path: Path
    revision: str
    down_revisions: tuple[str, ...]


def _names(node: ast.expr | None, path: Path) -> tuple[str, ...]:
    if node is None:
        return ()
    try:
        value = ast.literal_eval(node)
    except ValueError:
        raise MigrationsError(f"{path}: a revision that is not a literal") from None
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, tuple | list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise MigrationsError(f"{path}: a revision that is not a string, a tuple of strings or None")


def parse(path: Path) -> ast.Module:
    """The file's module; a file that is not readable Python is a MigrationsError naming it."""
    try:
        return ast.parse(path.read_text(), filename=str(path))
    except SyntaxError as error:
        raise MigrationsError(f"{path}: not readable as Python (line {error.lineno}: {error.msg})") from None
    except (OSError, UnicodeDecodeError) as error:
        raise MigrationsError(f"{path}: not readable ({error})") from None


def read_script(path: Path) -> Script | None:
    """The script in PATH; None for a file that assigns no ``revision``."""
    found: dict[str, ast.expr | None] = {}
    for statement in parse(path).body:
        if isinstance(statement, ast.Assign):
            targets = [t.id for t in statement.targets if isinstance(t, ast.Name)]
            value: ast.expr | None = statement.value
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            targets, value = [statement.target.id], statement.value
        else:
            continue
        for target in targets:
            if target in ("revision", "down_revision"):
                found[target] = value
    if "revision" not in found:
        return None
    (revision,) = _names(found["revision"], path) or (None,)
    if revision is None:
        raise MigrationsError(f"{path}: revision is empty")
    return Script(path, revision, _names(found.get("down_revision"), path))


@dataclass(frozen=True)
class Graph:
    """The scripts of one versions directory, parents before children, and each one's ancestry."""

    versions: Path
    ordered: tuple[Script, ...]  # parents before children, ties by file
    lineage: Mapping[str, frozenset[str]]  # each revision's ancestors and itself

    @classmethod
    def read(cls, versions: Path) -> Graph:
        scripts: dict[str, Script] = {}
        for path in sorted(versions.rglob("*.py")):
            script = read_script(path)
            if script is None:
                continue
            if script.revision in scripts:
                raise MigrationsError(
                    f"{path}: revision {script.revision} is also {scripts[script.revision].path}"
                )
            scripts[script.revision] = script
        if not scripts:
            raise MigrationsError(f"{versions}: no Alembic revision scripts")
        for script in scripts.values():
            for parent in script.down_revisions:
                if parent not in scripts:
                    raise MigrationsError(f"{script.path}: down_revision {parent} is not in {versions}")
        ordered = _topological(scripts, versions)
        lineage: dict[str, frozenset[str]] = {}
        for script in ordered:
            lineage[script.revision] = frozenset({script.revision}).union(
                *(lineage[parent] for parent in script.down_revisions)
            )
        return cls(versions, tuple(ordered), lineage)

    @property
    def heads(self) -> list[str]:
        """The revisions no script names as a parent, sorted."""
        parents = {parent for script in self.ordered for parent in script.down_revisions}
        return sorted(script.revision for script in self.ordered if script.revision not in parents)

    def heads_named(self, name: str, naming: Callable[[Collection[str]], str]) -> frozenset[str] | None:
        """The heads NAME stands for under NAMING: a revision named by itself, else a set of
        1 to MAX_HEADS mutually non-ancestral revisions whose name it is; None when none is."""
        if name in self.lineage and naming([name]) == name:
            return frozenset({name})
        for found in self.antichains():
            if naming(found) == name:
                return frozenset(found)
        return None

    def antichains(self) -> Iterator[tuple[str, ...]]:
        """Every set of 1 to MAX_HEADS mutually non-ancestral revisions, once each, sorted.

        Only antichains are visited: each step keeps the later candidates unrelated
        to the one just chosen. For n revisions that is at most C(n,1)+...+C(n,4)
        sets (all unrelated); for a history of b branches of at most L revisions
        each, at most the sum over k <= 4 of C(b,k)*L^k (the app: b = 3).
        """
        related = {
            revision: ancestors | {other for other, theirs in self.lineage.items() if revision in theirs}
            for revision, ancestors in self.lineage.items()
        }

        def extend(chosen: tuple[str, ...], candidates: list[str]) -> Iterator[tuple[str, ...]]:
            for index, candidate in enumerate(candidates):
                found = (*chosen, candidate)
                yield found
                if len(found) < MAX_HEADS:
                    rest = [other for other in candidates[index + 1 :] if other not in related[candidate]]
                    yield from extend(found, rest)

        yield from extend((), sorted(self.lineage))

    def after(self, heads: Iterable[str]) -> list[Script]:
        """The scripts that are neither HEADS nor their ancestors, parents first."""
        known: set[str] = set()
        for head in heads:
            known |= self.lineage[head]
        return [script for script in self.ordered if script.revision not in known]


def _topological(scripts: Mapping[str, Script], versions: Path) -> list[Script]:
    children: dict[str, list[str]] = {revision: [] for revision in scripts}
    waiting = {revision: len(set(script.down_revisions)) for revision, script in scripts.items()}
    for revision, script in scripts.items():
        for parent in set(script.down_revisions):
            children[parent].append(revision)
    ready = [(str(script.path), revision) for revision, script in scripts.items() if not waiting[revision]]
    heapq.heapify(ready)
    ordered: list[Script] = []
    while ready:
        _, revision = heapq.heappop(ready)
        ordered.append(scripts[revision])
        for child in children[revision]:
            waiting[child] -= 1
            if not waiting[child]:
                heapq.heappush(ready, (str(scripts[child].path), child))
    if len(ordered) != len(scripts):
        raise MigrationsError(f"{versions}: the revisions' down_revisions form a cycle")
    return ordered
