"""A release with a canary, step by step: start, judge each weight, then promote or abort.

The order of the pipeline, apart from what each step does to the cloud, so
that it can be played with stand-ins (tests/infra/ops/canary/test_pipeline.py)
and run for real through the Automation API (infra/ops/automation/canary.py).

1. start: the canary's release is recorded at the first weight and applied:
   its migration runs, then its pods come up and take that share;
2. for each weight (the first is already applied): wait one analysis window,
   judge; promote moves on, roll back aborts, inconclusive waits another
   window, at most ``inconclusive_retries`` more times, then aborts;
3. promote: the canary's release becomes the release (the Deployments roll,
   the worker after the API) and the canary goes.

An abort removes the canary and leaves stable serving. A failed promotion is
undone: the previous release is applied again without the canary, so the
previous digests serve. Either way the outcome says why and the run fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from infra.ops.canary import transitions
from infra.ops.canary.transitions import StepKind
from infra.ops.releases.record import Recorded
from infra.settings.canary import CanaryProfile

Decision = Literal["promote", "roll back", "inconclusive"]
# What a step is called in the notes people see (annotations, the run's log).
Moment = Literal["canary", "judged", "promoted", "aborted"]


class StepFailed(RuntimeError):
    """A step's preview or update failed; the message says what and where."""


class Judgement(Protocol):
    @property
    def decision(self) -> Decision: ...

    @property
    def reason(self) -> str: ...


@dataclass(frozen=True)
class Judged:
    """A judgement made without the judge: e.g. Prometheus did not answer (inconclusive)."""

    decision: Decision
    reason: str


@dataclass(frozen=True)
class Hooks:
    # Record ``after`` in the stack file, preview the step against its rules, update. Raises StepFailed.
    apply: Callable[[StepKind, Recorded, Recorded], None]
    judge: Callable[[], Judgement]
    # Wait so many seconds; the text says what for.
    wait: Callable[[float, str], None]
    # Tell people: (moment, the record holding the canary, text).
    note: Callable[[Moment, Recorded, str], None]


@dataclass
class Outcome:
    promoted: bool
    reason: str
    # The release record the stack runs at the end.
    record: Recorded
    judgements: list[str] = field(default_factory=list)


def run_release(stable: Recorded, profile: CanaryProfile, hooks: Hooks) -> Outcome:
    """Take the canary recorded in ``stable`` (at the first weight) through the steps; ``stable`` runs now."""
    if stable.canary is None:
        raise ValueError("no canary is recorded: record one first (samokoder-infra canary start)")
    current = transitions.set_weight(stable, profile.weights[0])
    outcome = Outcome(False, "", transitions.abort(current))
    try:
        hooks.apply("start", transitions.abort(current), current)
    except StepFailed as error:
        return _abort(current, f"the canary did not come up: {error}", hooks, outcome)
    for index, weight in enumerate(profile.weights):
        if index:
            moved = transitions.set_weight(current, weight)
            try:
                hooks.apply("weight", current, moved)
            except StepFailed as error:
                return _abort(
                    moved, f"the canary's share did not move to {weight} %: {error}", hooks, outcome
                )
            current = moved
        hooks.note("canary", current, f"{weight} % of the API's requests")
        refusal = _judge_step(current, weight, profile, hooks, outcome)
        if refusal is not None:
            return _abort(current, refusal, hooks, outcome)
    return _promote(current, hooks, outcome)


def _judge_step(
    current: Recorded, weight: int, profile: CanaryProfile, hooks: Hooks, outcome: Outcome
) -> str | None:
    """None when the step is judged good; otherwise why the release is aborted."""
    windows = 1 + profile.inconclusive_retries
    for attempt in range(1, windows + 1):
        hooks.wait(profile.analysis_minutes * 60, f"judging {weight} % over {profile.analysis_minutes} min")
        judgement = hooks.judge()
        outcome.judgements.append(f"{weight} % #{attempt}: {judgement.decision}: {judgement.reason}")
        hooks.note("judged", current, f"{weight} %: {judgement.decision}: {judgement.reason}")
        if judgement.decision == "promote":
            return None
        if judgement.decision == "roll back":
            return f"judged at {weight} %: {judgement.reason}"
    return f"inconclusive at {weight} % after {windows} window(s): {outcome.judgements[-1]}"


def _abort(current: Recorded, reason: str, hooks: Hooks, outcome: Outcome) -> Outcome:
    aborted = transitions.abort(current)
    try:
        hooks.apply("abort", current, aborted)
    except StepFailed as error:
        reason = f"{reason}; the abort failed too ({error}): run `samokoder-infra rollback`"
    hooks.note("aborted", current, reason)
    outcome.reason, outcome.record = reason, aborted
    return outcome


def _promote(current: Recorded, hooks: Hooks, outcome: Outcome) -> Outcome:
    promoted = transitions.promote(current)
    try:
        hooks.apply("promote", current, promoted)
    except StepFailed as error:
        # The previous release again, without the canary: its digests serve.
        previous = transitions.abort(current)
        reason = f"the promotion failed: {error}"
        try:
            hooks.apply("restore", promoted, previous)
        except StepFailed as again:
            reason = (
                f"{reason}; putting back release {previous.id} failed too ({again}): "
                "run `samokoder-infra rollback`"
            )
        hooks.note("aborted", current, reason)
        outcome.reason, outcome.record = reason, previous
        return outcome
    assert current.canary is not None
    hooks.note("promoted", current, f"release {current.canary.id} is the release")
    outcome.promoted, outcome.reason, outcome.record = True, f"release {promoted.id} promoted", promoted
    return outcome
