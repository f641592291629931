"""What each step of a canary release may change, and nothing else: the blast radius.

The same rules judge two things: the offline synth diff of each step
(tests/infra/ops/canary/test_steps.py, ``samokoder-infra canary plan``) and
the preview that runs before each step's update, as a rollback's preview is
checked (infra/ops/automation/canary.py). A change outside them stops the
step before anything is applied.

- start: the canary's Deployment, Service, autoscaler and Ingress are
  created, and, when the release moves the schema, its pre-migration Backup
  and migration Job; nothing that serves stable is touched.
- weight: the canary's own objects are updated (its Ingress's weight, its
  autoscaler's bounds).
- promote: the app's Deployments are updated (their images) and the canary's
  objects deleted; when the schema moved, the previous revision's Backup and
  Job objects go too, as on any release.
- abort: the canary's objects are deleted, and its revision's Backup and Job
  objects; stable is untouched.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from infra.ops.canary.transitions import StepKind

Op = Literal["create", "update", "delete", "replace"]
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
MIGRATION_TYPES = frozenset({"kubernetes:batch/v1:Job", "kubernetes:postgresql.cnpg.io/v1:Backup"})
# Resource names of the canary's objects (components/workloads.py: "<component>-api-canary-<object>").
CANARY_MARK = "-api-canary-"
# Pulumi's preview ops for a replacement, all one "replace" here.
_REPLACE_OPS = {"replace", "create-replacement", "delete-replaced"}
# Synth diff actions (infra/ops/synth/diff.py) as the preview's ops.
SYNTH_ACTIONS: dict[str, Op] = {
    "added": "create",
    "updated": "update",
    "removed": "delete",
    "replaced": "replace",
}


@dataclass(frozen=True)
class Change:
    op: Op
    type: str
    name: str

    def __str__(self) -> str:
        return f"{self.op} {self.type} {self.name}"


def preview_op(op: str) -> Op | None:
    """A preview step's op as a change, or None for one that changes nothing (same, read, refresh)."""
    if op in _REPLACE_OPS:
        return "replace"
    if op in ("create", "update", "delete"):
        return op  # type: ignore[return-value]
    return None


def is_canary_object(name: str) -> bool:
    return CANARY_MARK in name


def _migration_of(change: Change, revision: str | None) -> bool:
    return (
        revision is not None
        and change.type in MIGRATION_TYPES
        and (change.name.endswith(f"-migrate-{revision}") or change.name.endswith(f"-backup-{revision}"))
    )


def allowed(kind: StepKind, change: Change, *, stable_revision: str, canary_revision: str) -> bool:
    """Whether ``change`` is one the step ``kind`` may make.

    The revisions are those of the record that holds the canary: after a start, before the others.
    """
    moved = canary_revision != stable_revision
    canary = is_canary_object(change.name)
    canarys_own = canary or _migration_of(change, canary_revision if moved else None)
    if kind == "start":
        return change.op == "create" and canarys_own
    if kind == "weight":
        return change.op == "update" and canary
    if kind == "promote":
        if change.op == "update":
            return change.type == DEPLOYMENT and not canary
        return change.op == "delete" and (canary or _migration_of(change, stable_revision if moved else None))
    return change.op == "delete" and canarys_own


def outside(
    kind: StepKind, changes: Iterable[Change], *, stable_revision: str, canary_revision: str
) -> list[Change]:
    """The changes the step may not make."""
    return [
        c
        for c in changes
        if not allowed(kind, c, stable_revision=stable_revision, canary_revision=canary_revision)
    ]
