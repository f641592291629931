"""The migration revision a release carries, read from the app's Alembic scripts (no grep).

The scripts and their graph are read by ``alembic_graph.py``; a history
Alembic would refuse (a duplicate revision, a missing ``down_revision``, a
cycle, a file that is not Python) is a ``MigrationsError`` naming the file.
The heads are the revisions no script names as a parent; the app has three
(``infra/app_contract.py``: ``MIGRATIONS`` runs ``upgrade heads``).

The release's ``migration_revision`` names the schema the images expect and
is part of Kubernetes object names (the pre-migration Backup, the migration
Job), so it is lower-case hex: a single hex head is itself; several heads
(or one that is not hex) are named by a fingerprint of the set, the first 12
hex digits of the SHA-256 of the sorted heads joined by commas. Any change
of a head changes it; the same heads always give the same one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

from infra.ops.releases.alembic_graph import Graph, MigrationsError, read_script

__all__ = ["HEX", "MigrationsError", "heads", "migration_revision", "script_revisions"]

# What the stack setting takes as it is (infra/settings/release.py): longer ids are fingerprinted.
HEX = re.compile(r"[0-9a-f]{6,12}")


def script_revisions(path: Path) -> tuple[str, tuple[str, ...]] | None:
    """(revision, its parents) of one script; None for a file that is not one."""
    script = read_script(path)
    return None if script is None else (script.revision, script.down_revisions)


def heads(versions: Path) -> list[str]:
    """The revisions no script names as a parent, sorted."""
    return Graph.read(versions).heads


def migration_revision(found_heads: Iterable[str]) -> str:
    """The release's migration revision for these heads (see the module's docstring)."""
    ordered = sorted(set(found_heads))
    if not ordered:
        raise MigrationsError("no heads")
    if len(ordered) == 1 and HEX.fullmatch(ordered[0]):
        return ordered[0]
    return hashlib.sha256(",".join(ordered).encode()).hexdigest()[:12]
