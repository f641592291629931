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
    """One update of the stack and the release it deployed."""

    version: int
    time: str
    result: str
    id: str
    images: dict[str, str]
    migration_revision: str

    @property
    def succeeded(self) -> bool:
        return self.result == "succeeded"

    def same_images(self, other: Release) -> bool:
        return self.images == other.images


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


def choose_target(
    history: Sequence[Mapping[str, Any]], *, to: str | None = None, steps: int = 1
) -> RollbackPlan:
    """The release to go back to: ``to`` by id, else ``steps`` distinct successful releases back."""
    if steps < 1:
        raise RollbackRefused(f"--steps must be 1 or more (got {steps})")
    successful = [r for r in releases(history) if r.succeeded]
    if not successful:
        raise RollbackRefused("the stack has no successful update that deployed a release by digest")
    current = successful[0]
    earlier: list[Release] = []
    for release in successful[1:]:
        # A re-deploy of the same images is not a release to go back to.
        if not release.same_images(current) and not any(release.same_images(e) for e in earlier):
            earlier.append(release)
    if to is not None:
        if to == current.id:
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
    if target.migration_revision != current.migration_revision:
        raise RollbackRefused(
            f"release {target.id} expects database migration revision "
            f"{target.migration_revision or '(none)'}, but the database is at "
            f"{current.migration_revision} (release {current.id}): its code would run against a "
            "schema it does not know. Roll forward with a fix, or restore the database "
            "(docs/runbooks/database-restore.md) and then roll back."
        )
    return RollbackPlan(current=current, target=target)
