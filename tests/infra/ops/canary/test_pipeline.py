"""The order of a canary release, played with stand-ins for the cloud, the judge and the clock."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from infra.ops.canary.pipeline import Decision, Hooks, Judged, Outcome, StepFailed, run_release
from infra.ops.canary.transitions import StepKind, start
from infra.ops.releases.record import Recorded
from infra.settings.canary import CanaryProfile

STABLE = Recorded(
    "r1",
    "aaaa1111",
    {"api": "sha256:" + "1" * 64, "worker": "sha256:" + "2" * 64, "frontend": "sha256:" + "3" * 64},
)
NEXT = Recorded(
    "r2",
    "bbbb2222",
    {"api": "sha256:" + "4" * 64, "worker": "sha256:" + "5" * 64, "frontend": "sha256:" + "6" * 64},
)
PROFILE = CanaryProfile(
    weights=(5, 25, 50),
    analysis_minutes=10,
    min_requests=200,
    max_error_percent=0.5,
    max_error_increase_points=0.25,
    max_latency_ratio=1.5,
    inconclusive_retries=2,
)


@dataclass
class World:
    """What the pipeline did: the steps applied (with the weights they left), waits, notes."""

    verdicts: list[Decision]
    failing: set[StepKind] = field(default_factory=set)
    applied: list[tuple[StepKind, str]] = field(default_factory=list)
    waited: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    spans: list[int] = field(default_factory=list)

    def apply(self, kind: StepKind, before: Recorded, after: Recorded) -> None:
        self.applied.append((kind, f"{after.id}+{after.canary.weight if after.canary else '-'}"))
        if kind in self.failing:
            raise StepFailed(f"{kind} failed")

    def judge(self, minutes: int) -> Judged:
        self.spans.append(minutes)
        decision = self.verdicts.pop(0)
        return Judged(decision, f"judged {decision}")

    def run(self, profile: CanaryProfile = PROFILE) -> Outcome:
        hooks = Hooks(
            apply=self.apply,
            judge=self.judge,
            wait=lambda seconds, _: self.waited.append(seconds),
            note=lambda moment, record, text: self.notes.append(moment),
        )
        return run_release(start(STABLE, NEXT, 5), profile, hooks)


def test_a_good_canary_goes_through_every_weight_and_is_promoted() -> None:
    world = World(["promote"] * 3)
    outcome = world.run()
    assert world.applied == [("start", "r1+5"), ("weight", "r1+25"), ("weight", "r1+50"), ("promote", "r2+-")]
    assert world.waited == [600.0] * 3
    assert world.notes == ["canary", "judged", "weight", "judged", "weight", "judged", "promoted"]
    assert outcome.promoted
    assert outcome.record == NEXT


def test_a_bad_verdict_aborts_at_its_weight_and_leaves_stable() -> None:
    world = World(["promote", "roll back"])
    outcome = world.run()
    assert world.applied == [("start", "r1+5"), ("weight", "r1+25"), ("abort", "r1+-")]
    assert not outcome.promoted
    assert outcome.record == STABLE
    assert "judged at 25 %: judged roll back" in outcome.reason
    assert world.notes[-1] == "aborted"


def test_an_inconclusive_window_is_judged_again_up_to_the_retries_then_aborts() -> None:
    world = World(["inconclusive", "inconclusive", "promote", "promote", "promote"])
    assert world.run().promoted
    assert len(world.waited) == 5
    # A window judged again takes in all the time at its weight: a quiet canary's requests add up.
    assert world.spans == [10, 20, 30, 10, 10]

    world = World(["inconclusive"] * 3)
    outcome = world.run()
    assert not outcome.promoted
    assert outcome.reason.startswith("inconclusive at 5 % after 3 window(s)")
    assert world.applied[-1] == ("abort", "r1+-")


def test_a_canary_that_does_not_come_up_is_aborted_without_being_judged() -> None:
    world = World([], failing={"start"})
    outcome = world.run()
    assert world.applied == [("start", "r1+5"), ("abort", "r1+-")]
    assert world.waited == []
    assert "did not come up: start failed" in outcome.reason


def test_a_failed_promotion_puts_the_previous_release_back() -> None:
    world = World(["promote"] * 3, failing={"promote"})
    outcome = world.run()
    assert world.applied[-2:] == [("promote", "r2+-"), ("restore", "r1+-")]
    assert not outcome.promoted
    assert outcome.record == STABLE
    assert outcome.reason == "the promotion failed: promote failed"


@pytest.mark.parametrize("failing", ["abort", "restore"])
def test_when_putting_stable_back_fails_too_the_operator_is_sent_to_rollback(failing: StepKind) -> None:
    world = World(["promote"] * 3 if failing == "restore" else ["roll back"], failing={failing, "promote"})
    outcome = world.run()
    assert "samokoder-infra rollback" in outcome.reason
    assert not outcome.promoted


def test_a_run_that_breaks_mid_way_aborts_the_canary_before_the_error_goes_on() -> None:
    """A judge that raises (a bug, an unexpected answer) must not leave the canary with its share."""
    world = World(["promote"])

    def broken(minutes: int) -> Judged:
        if world.verdicts:
            return world.judge(minutes)
        raise RuntimeError("unexpected answer")

    hooks = Hooks(
        apply=world.apply,
        judge=broken,
        wait=lambda seconds, _: world.waited.append(seconds),
        note=lambda moment, record, text: world.notes.append(moment),
    )
    with pytest.raises(RuntimeError, match="unexpected answer"):
        run_release(start(STABLE, NEXT, 5), PROFILE, hooks)
    assert world.applied == [("start", "r1+5"), ("weight", "r1+25"), ("abort", "r1+-")]
    assert world.notes[-1] == "aborted"


def test_an_abort_that_fails_leaves_the_outcome_naming_the_canary_still_there() -> None:
    world = World(["roll back"], failing={"abort"})
    outcome = world.run()
    assert outcome.record.canary is not None
    assert outcome.record.canary.id == NEXT.id


def test_a_release_without_a_recorded_canary_is_refused() -> None:
    with pytest.raises(ValueError, match="no canary is recorded"):
        run_release(STABLE, PROFILE, Hooks(apply=print, judge=print, wait=print, note=print))  # type: ignore[arg-type]
