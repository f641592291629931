"""A release with a canary, step by step: start, judge each weight, then promote or abort.

The order of the pipeline, apart from what each step does to the cloud, so
that it can be played with stand-ins (tests/infra/ops/canary/test_pipeline.py)
and run for real through the Automation API (infra/ops/automation/canary.py).

1. start: the canary's release is recorded at the first weight and applied:
   its migration runs, then its pods come up and take that share;
2. for each weight (the first is already applied): wait one analysis window,
   judge; promote moves on, roll back aborts, inconclusive waits another
   window, at most ``inconclusive_retries`` more times, then aborts. A window
   judged again covers all the time at that weight, so that a quiet canary's
   requests add up instead of being judged a window at a time;
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
Moment = Literal["canary", "weight", "judged", "promoted", "aborted"]


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
    # Judge the last so many minutes (all of them at the current weight).
    judge: Callable[[int], Judgement]
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
    """Take the canary recorded in ``stable`` (at the first weight) through the steps; ``stable`` runs now.

    An error that stops the run between the start and the end (a bug, a hook
    that raised) aborts the canary first, so that it does not keep its share
    unjudged, and is raised again. A cancelled job (SIGINT, SIGTERM) is not
    answered here: an abort is an update of minutes, longer than a runner's
    grace period; the workflow's own step aborts what is left
    (``canary abort --apply``).
    """
    if stable.canary is None:
        raise ValueError("no canary is recorded: record one first (samokoder-infra canary start)")
    run = _Run(transitions.set_weight(stable, profile.weights[0]), profile, hooks)
    try:
        return run.through()
    except Exception as error:
        if not run.settled:
            run.abort(f"the run stopped ({error.__class__.__name__}: {error})")
        raise


class _Run:
    """One release's steps; ``current`` is the record the stack was last updated to (or is being)."""

    def __init__(self, current: Recorded, profile: CanaryProfile, hooks: Hooks) -> None:
        self.current = current
        self.profile = profile
        self.hooks = hooks
        self.outcome = Outcome(False, "", transitions.abort(current))
        # True once the run has ended on its own terms: promoted, aborted, or put back.
        self.settled = False

    def through(self) -> Outcome:
        try:
            self.hooks.apply("start", transitions.abort(self.current), self.current)
        except StepFailed as error:
            return self.abort(f"the canary did not come up: {error}")
        for index, weight in enumerate(self.profile.weights):
            if index:
                moved = transitions.set_weight(self.current, weight)
                previous, self.current = self.current, moved
                try:
                    self.hooks.apply("weight", previous, moved)
                except StepFailed as error:
                    return self.abort(f"the canary's share did not move to {weight} %: {error}")
            self.hooks.note(
                "canary" if index == 0 else "weight", self.current, f"{weight} % of the API's requests"
            )
            refusal = self._judge(weight)
            if refusal is not None:
                return self.abort(refusal)
        return self._promote()

    def _judge(self, weight: int) -> str | None:
        """None when the step is judged good; otherwise why the release is aborted."""
        windows = 1 + self.profile.inconclusive_retries
        minutes = self.profile.analysis_minutes
        for attempt in range(1, windows + 1):
            self.hooks.wait(minutes * 60, f"judging {weight} % over {minutes} min")
            judgement = self.hooks.judge(attempt * minutes)
            said = f"{weight} % #{attempt}: {judgement.decision}: {judgement.reason}"
            self.outcome.judgements.append(said)
            self.hooks.note("judged", self.current, f"{weight} %: {judgement.decision}: {judgement.reason}")
            if judgement.decision == "promote":
                return None
            if judgement.decision == "roll back":
                return f"judged at {weight} %: {judgement.reason}"
        return f"inconclusive at {weight} % after {windows} window(s): {self.outcome.judgements[-1]}"

    def abort(self, reason: str) -> Outcome:
        aborted = transitions.abort(self.current)
        record = aborted
        try:
            self.hooks.apply("abort", self.current, aborted)
        except StepFailed as error:
            reason = f"{reason}; the abort failed too ({error}): run `samokoder-infra rollback`"
            record = self.current
        return self._end(False, reason, record, "aborted")

    def _promote(self) -> Outcome:
        promoted = transitions.promote(self.current)
        try:
            self.hooks.apply("promote", self.current, promoted)
        except StepFailed as error:
            # The previous release again, without the canary: its digests serve.
            previous = transitions.abort(self.current)
            reason, record = f"the promotion failed: {error}", previous
            try:
                self.hooks.apply("restore", promoted, previous)
            except StepFailed as again:
                reason = (
                    f"{reason}; putting back release {previous.id} failed too ({again}): "
                    "run `samokoder-infra rollback`"
                )
                record = promoted
            return self._end(False, reason, record, "aborted")
        return self._end(True, f"release {promoted.id} promoted", promoted, "promoted")

    def _end(self, promoted: bool, reason: str, record: Recorded, moment: Moment) -> Outcome:
        self.settled = True
        self.outcome.promoted, self.outcome.reason, self.outcome.record = promoted, reason, record
        self.hooks.note(moment, self.current, reason)
        return self.outcome
