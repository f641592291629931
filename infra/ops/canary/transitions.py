"""The steps of a release with a canary, as changes of the stack file's release record.

Each step is one `pulumi up` of the record it leaves in ``Pulumi.<stack>.yaml``:

- start: the next release becomes ``release.canary`` at the first weight
  (its migration runs, then its API takes that share of the requests);
- weight: the canary's share moves to the next weight;
- promote: the canary's release becomes the release, and the canary goes;
- abort: the canary goes, and the release stays what it was.

Pure: records in, records out; the workflow's and the CLI's writes go
through infra/ops/releases/record.py.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from infra.ops.releases.record import Recorded, RecordedCanary

# "restore": after a failed promotion, the previous release again, without the canary.
StepKind = Literal["start", "weight", "promote", "abort", "restore"]


class TransitionRefused(ValueError):
    """The step does not follow from the recorded release; the message says what to do."""


def start(stable: Recorded, next_release: Recorded, weight: int) -> Recorded:
    if stable.canary is not None:
        raise TransitionRefused(
            f"release {stable.canary.id} is already the canary (at {stable.canary.weight} %): "
            "promote or abort it first (samokoder-infra canary promote|abort)"
        )
    if next_release.images.get("api") == stable.images.get("api"):
        raise TransitionRefused(
            f"release {next_release.id} has the running API image: there is nothing for a canary to judge; "
            "release it whole (--without-canary)"
        )
    canary = RecordedCanary(
        next_release.id, next_release.migration_revision, dict(next_release.images), weight
    )
    return replace(stable, canary=canary)


def _running(record: Recorded, step: str) -> RecordedCanary:
    if record.canary is None:
        raise TransitionRefused(f"no canary is recorded: nothing to {step}")
    return record.canary


def set_weight(record: Recorded, weight: int) -> Recorded:
    canary = _running(record, "move")
    return replace(record, canary=replace(canary, weight=weight))


def promote(record: Recorded) -> Recorded:
    canary = _running(record, "promote")
    return Recorded(canary.id, canary.migration_revision, dict(canary.images))


def abort(record: Recorded) -> Recorded:
    _running(record, "abort")
    return replace(record, canary=None)
