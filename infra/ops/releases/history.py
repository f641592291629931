"""Releases from a stack's update history, and which one a rollback goes back to.

Pure: it reads the records `pulumi stack history --json` prints (and the
Automation API returns): each update's kind, result, times, version and the
config it ran with, where ``samokoder:release`` holds the release id, the
image digests and the migration revision.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infra.conventions import RELEASE_KEY


class RollbackRefused(ValueError):
    """No rollback is possible or safe; the message says why and what to do instead."""


@dataclass(frozen=True)
class Release:
    version: int
    time: str
    result: str
    id: str
    images: dict[str, str]
    migration_revision: str

    @property
    def succeeded(self) -> bool:
        return self.result == "succeeded"


def _release_config(config: Mapping[str, Any]) -> dict[str, Any] | None:
    entry = config.get(RELEASE_KEY)
    if entry is None:
        return None
    value = entry.get("value") if isinstance(entry, Mapping) else entry
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else None


def releases(history: Sequence[Mapping[str, Any]]) -> list[Release]:
    """Every update that deployed a release by digest, newest first."""
    found = []
    for update in history:
        if update.get("kind") != "update":
            continue
        release = _release_config(update.get("config") or {})
        if not release or not release.get("images"):
            continue  # a build from source has no digests to go back to
        found.append(
            Release(
                version=int(update["version"]),
                time=str(update.get("endTime") or update.get("startTime") or ""),
                result=str(update.get("result", "")),
                id=str(release["id"]),
                images=dict(release["images"]),
                migration_revision=str(release.get("migration_revision", "")),
            )
        )
    return sorted(found, key=lambda r: r.version, reverse=True)


@dataclass(frozen=True)
class RollbackPlan:
    current: Release
    target: Release

    def changed_services(self) -> list[str]:
        return sorted(s for s in self.target.images if self.target.images[s] != self.current.images.get(s))


def _refuse_across_a_migration(every: Sequence[Release], target: Release) -> None:
    """Refused when any update since the target, failed ones included, carried a revision it never ran on."""
    since = [r for r in every if r.version > target.version]
    moved = [r for r in since if r.migration_revision != target.migration_revision]
    if moved:
        newest = moved[0]
        state = "is at" if newest.succeeded else "may be at"
        how = "" if newest.succeeded else f", whose update {newest.version} failed and may have migrated it"
        raise RollbackRefused(
            f"release {target.id} expects database migration revision "
            f"{target.migration_revision or '(none)'}, but the database {state} "
            f"{newest.migration_revision} (release {newest.id}{how}): its code would run against a "
            "schema it does not know. Roll forward with a fix, or restore the database "
            "(docs/runbooks/database-restore.md) and then roll back."
        )


def choose_target(
    history: Sequence[Mapping[str, Any]], *, to: str | None = None, steps: int = 1
) -> RollbackPlan:
    """The release to go back to: ``to`` by id, else ``steps`` distinct successful releases back.

    The current state is the newest update that deployed a release, whatever
    its result: a failed or partial update may have replaced some pods and
    run its migration. After a successful one, a target is an earlier release
    with other images; after a failed one, the last successful release itself
    (its id too, even when the failed update carried the same) is the first
    target. A target is refused when any update since it, failed ones
    included, carried another migration revision: the database may be there.
    """
    if steps < 1:
        raise RollbackRefused(f"--steps must be 1 or more (got {steps})")
    every = releases(history)
    if not every:
        raise RollbackRefused("the stack has no update that deployed a release by digest")
    current = every[0]
    successful = [r for r in every if r.succeeded]
    if not successful or successful == [current]:
        raise RollbackRefused(
            "the stack has no successful update that deployed a release by digest"
            if not successful
            else "there are only 0 earlier successful release(s) to go back to, "
            f"not {steps} (release {current.id}, update {current.version}, is the only one)"
        )
    earlier: list[Release] = []
    candidates = successful[1:] if current.succeeded else successful
    for release in candidates:
        # A re-deploy of the same images is not a release to go back to;
        # after a failure the last good release is, whatever its images.
        seen = [*earlier] if not current.succeeded else [current, *earlier]
        if not any(release.images == e.images for e in seen):
            earlier.append(release)
    if to is not None:
        if to == current.id and current.succeeded:
            raise RollbackRefused(f"release {to} is the one deployed now (update {current.version})")
        matches = [r for r in earlier if r.id == to]
        if not matches:
            known = ", ".join(dict.fromkeys(r.id for r in earlier)) or "none"
            raise RollbackRefused(
                f"no earlier successful update deployed release {to!r}; earlier releases: {known}"
            )
        target = matches[0]
    else:
        if len(earlier) < steps:
            raise RollbackRefused(
                f"there {'is' if len(earlier) == 1 else 'are'} only {len(earlier)} earlier successful "
                f"release(s) to go back to, not {steps}"
            )
        target = earlier[steps - 1]
    _refuse_across_a_migration(every, target)
    return RollbackPlan(current=current, target=target)
