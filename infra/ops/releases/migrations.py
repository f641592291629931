"""The migration revision a release carries, read from the app's Alembic scripts (never imported).

Alembic scripts name themselves and their parents at module level, plain or
typed: ``revision = "<12 hex digits>"``, ``revision: str = "sec_001"``,
``down_revision: Union[str, None] = ("a", "b")``. Every ``*.py`` under the
versions directory that assigns ``revision`` is a script; others
(``__init__.py``, helpers) are skipped. Only these two names are read: what a
script does to the schema is judged by running it on a copy of the database,
not by reading it.

A history Alembic would refuse (two scripts of one revision, a
``down_revision`` no script is, a cycle, a file that is not Python) is a
``MigrationsError`` naming the file. The heads are the revisions no script
names as a parent; the app has three (``infra/app_contract.py``:
``MIGRATIONS`` runs ``upgrade heads``).

The release's ``migration_revision`` names the schema the images expect and
is part of Kubernetes object names (the pre-migration Backup, the migration
Job), so it is lower-case hex: a single hex head is itself; several heads
(or one that is not hex) are named by a fingerprint of the set, the first 12
hex digits of the SHA-256 of the sorted heads joined by commas. Any change
of a head changes it; the same heads always give the same one.
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Iterable
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

__all__ = ["HEX", "MigrationsError", "heads", "migration_revision", "read_script"]

# What the stack setting takes as it is (infra/settings/release.py): longer ids are fingerprinted.
HEX = re.compile(r"[0-9a-f]{6,12}")

Parents = tuple[str, ...]


class MigrationsError(ValueError):
    """The scripts cannot be read as an Alembic history; the message names the file."""


def _names(node: ast.expr | None, path: Path) -> Parents:
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


def _module(path: Path) -> ast.Module:
    try:
        return ast.parse(path.read_text(), filename=str(path))
    except SyntaxError as error:
        raise MigrationsError(f"{path}: not readable as Python (line {error.lineno}: {error.msg})") from None
    except (OSError, UnicodeDecodeError) as error:
        raise MigrationsError(f"{path}: not readable ({error})") from None


def read_script(path: Path) -> tuple[str, Parents] | None:
    """(revision, the revisions it follows) of the script in PATH; None for a file that assigns no
    ``revision``."""
    found: dict[str, ast.expr | None] = {}
    for statement in _module(path).body:
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
    return revision, _names(found.get("down_revision"), path)


def _history(versions: Path) -> dict[str, tuple[Path, Parents]]:
    """revision -> (its script, its parents), refused as Alembic refuses it."""
    scripts: dict[str, tuple[Path, Parents]] = {}
    for path in sorted(versions.rglob("*.py")):
        script = read_script(path)
        if script is None:
            continue
        revision, parents = script
        if revision in scripts:
            raise MigrationsError(f"{path}: revision {revision} is also {scripts[revision][0]}")
        scripts[revision] = (path, parents)
    if not scripts:
        raise MigrationsError(f"{versions}: no Alembic revision scripts")
    for path, parents in scripts.values():
        for parent in parents:
            if parent not in scripts:
                raise MigrationsError(f"{path}: down_revision {parent} is not in {versions}")
    try:
        TopologicalSorter({revision: parents for revision, (_, parents) in scripts.items()}).prepare()
    except CycleError:
        raise MigrationsError(f"{versions}: the revisions' down_revisions form a cycle") from None
    return scripts


def heads(versions: Path) -> list[str]:
    scripts = _history(versions)
    parents = {parent for _, theirs in scripts.values() for parent in theirs}
    return sorted(revision for revision in scripts if revision not in parents)


def migration_revision(found_heads: Iterable[str]) -> str:
    ordered = sorted(set(found_heads))
    if not ordered:
        raise MigrationsError("no heads")
    if len(ordered) == 1 and HEX.fullmatch(ordered[0]):
        return ordered[0]
    return hashlib.sha256(",".join(ordered).encode()).hexdigest()[:12]
