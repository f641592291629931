"""What each step of a canary release may change, and nothing else: the blast radius.

The same rules judge two things: the offline synth diff of each step
(tests/infra/ops/canary/test_steps.py, ``samokoder-infra canary plan``) and
the preview that runs before each step's update, as a rollback's preview is
checked (infra/ops/automation/canary.py). A change outside them stops the
step before anything is applied.

- start: the canary's Deployment, Service, autoscaler and Ingress are
  created, and, when the release moves the schema, its pre-migration Backup
  and migration Job; nothing that serves stable is touched. (Started again
  over a canary left at another weight, its objects are updated instead.)
- weight: the canary's own objects are updated (its Ingress's weight, its
  autoscaler's bounds).
- promote: the app's Deployments are updated (their images) and the canary's
  objects deleted; when the schema moved, the previous revision's Backup and
  Job objects go too, as on any release.
- abort: the canary's objects are deleted, and its revision's Backup and Job
  objects; stable is untouched.
- restore (after a failed promotion): the Deployments are updated back to the
  previous images and the canary's objects deleted; no migration object may
  be created (the previous release's migration would run old code against a
  newer schema), so a restore that needs one stops for a rollback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from infra.ops.canary.transitions import StepKind
from infra.ops.releases.record import Recorded

# "other": an op no rule names (import, discard, a pending replacement's removal ...): never allowed.
Op = Literal["create", "update", "delete", "replace", "other"]
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
MIGRATION_TYPES = frozenset({"kubernetes:batch/v1:Job", "kubernetes:postgresql.cnpg.io/v1:Backup"})
# Resource names of the canary's objects (components/workloads.py: "<component>-api-canary-<object>").
CANARY_MARK = "-api-canary-"
# Pulumi's preview ops for a replacement, all one "replace" here.
_REPLACE_OPS = {"replace", "create-replacement", "delete-replaced"}
# Ops that change nothing in the cloud.
_NEUTRAL_OPS = {"same", "read", "refresh"}
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
    if op in _NEUTRAL_OPS:
        return None
    if op in _REPLACE_OPS:
        return "replace"
    if op in ("create", "update", "delete"):
        return op  # type: ignore[return-value]
    return "other"


def is_canary_object(name: str) -> bool:
    return CANARY_MARK in name


def is_migration_of(type_: str, name: str, revision: str | None) -> bool:
    """Whether a resource is the pre-migration Backup or the migration Job of ``revision``."""
    return (
        revision is not None
        and type_ in MIGRATION_TYPES
        and (name.endswith(f"-migrate-{revision}") or name.endswith(f"-backup-{revision}"))
    )


def _migration_of(change: Change, revision: str | None) -> bool:
    return is_migration_of(change.type, change.name, revision)


def allowed(kind: StepKind, change: Change, *, stable_revision: str, canary_revision: str) -> bool:
    """Whether ``change`` is one the step ``kind`` may make (the revisions: ``revisions``)."""
    moved = canary_revision != stable_revision
    canary = is_canary_object(change.name)
    canarys_own = canary or _migration_of(change, canary_revision if moved else None)
    app_image = change.type == DEPLOYMENT and not canary
    rules: dict[StepKind, dict[Op, bool]] = {
        # An update of the canary's own objects: a run started again over a canary at another weight.
        "start": {"create": canarys_own, "update": canary},
        "weight": {"update": canary},
        "promote": {
            "update": app_image,
            "delete": canary or _migration_of(change, stable_revision if moved else None),
        },
        "abort": {"delete": canarys_own},
        "restore": {"update": app_image, "delete": canarys_own},
    }
    return rules[kind].get(change.op, False)


def revisions(kind: StepKind, before: Recorded, after: Recorded) -> dict[str, str]:
    """The schemas of stable and of the canary's release around a step, as ``allowed`` takes them."""
    if kind == "restore":
        # From the promoted release back to the one before it.
        return {"stable_revision": after.migration_revision, "canary_revision": before.migration_revision}
    holder = after if kind == "start" else before
    canary = holder.canary.migration_revision if holder.canary else holder.migration_revision
    return {"stable_revision": holder.migration_revision, "canary_revision": canary}


def outside(
    kind: StepKind, changes: Iterable[Change], *, stable_revision: str, canary_revision: str
) -> list[Change]:
    """The changes the step may not make."""
    return [
        c
        for c in changes
        if not allowed(kind, c, stable_revision=stable_revision, canary_revision=canary_revision)
    ]
