"""The migration revision a release carries, read from the app's Alembic scripts (no grep).

Alembic scripts name themselves and their parents at module level, plain or
typed: ``revision = "<12 hex digits>"``, ``revision: str = "sec_001"``,
``down_revision: Union[str, None] = ("a", "b")``. The heads are the
revisions no script names as a parent; the app has three
(``infra/app_contract.py``: ``MIGRATIONS`` runs ``upgrade heads``).

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
from pathlib import Path

# What the stack setting takes as it is (infra/settings/release.py): longer ids are fingerprinted.
HEX = re.compile(r"[0-9a-f]{6,12}")


class MigrationsError(ValueError):
    """The scripts cannot be read as an Alembic history; the message names the file."""


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


def script_revisions(path: Path) -> tuple[str, tuple[str, ...]] | None:
    """(revision, its parents) of one script; None for a file that is not one."""
    found: dict[str, ast.expr | None] = {}
    for statement in ast.parse(path.read_text(), filename=str(path)).body:
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


def heads(versions: Path) -> list[str]:
    """The revisions no script names as a parent, sorted."""
    scripts = sorted(versions.rglob("*.py"))
    revisions: dict[str, tuple[str, ...]] = {}
    for path in scripts:
        read = script_revisions(path)
        if read is not None:
            revisions[read[0]] = read[1]
    if not revisions:
        raise MigrationsError(f"{versions}: no Alembic revision scripts")
    parents = {parent for named in revisions.values() for parent in named}
    return sorted(set(revisions) - parents)


def migration_revision(found_heads: Iterable[str]) -> str:
    """The release's migration revision for these heads (see the module's docstring)."""
    ordered = sorted(set(found_heads))
    if not ordered:
        raise MigrationsError("no heads")
    if len(ordered) == 1 and HEX.fullmatch(ordered[0]):
        return ordered[0]
    return hashlib.sha256(",".join(ordered).encode()).hexdigest()[:12]
