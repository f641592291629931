"""How a release of the API proves itself: Flagger's analysis of the API's ``Canary``.

Flagger (infra/render/workloads/canary.py) shifts ``weights`` of the API's
requests to the new version one step after another, one step every
``analysis_minutes``, judging each over that window on the canary's own
requests at the ingress: its share of 5xx answers (``max_error_percent``) and
its P95 (the latency SLO's threshold, ``slo.latency_threshold_seconds``), on
at least ``min_requests`` requests. A check that fails (or has too few
requests to decide) holds the step; at ``max_failed_checks`` failed checks
Flagger routes everything back to the promoted version and scales the new one
to zero.
"""

from __future__ import annotations

import math
from itertools import pairwise

from pydantic import Field, ValidationInfo, field_validator, model_validator

from infra.settings.base import StrictModel, is_production

# A production canary is judged on enough traffic and time to tell a regression from noise.
PRODUCTION_MIN_ANALYSIS_MINUTES = 5
PRODUCTION_MIN_REQUESTS = 100
# How long Flagger lets the new version's pods, then the promoted ones, become ready (the Canary's
# progressDeadlineSeconds): Flagger's own default (pkg/apis/flagger/v1beta1/canary.go:32 at v1.44.0).
PROGRESS_DEADLINE_SECONDS = 600
# The deploy job runs on a GitHub-hosted runner, cut off after 6 hours (docs.github.com, Actions
# usage limits: "Job execution time"); the longest wait for Flagger's verdict leaves two and a half
# hours of it for the images, the migration's rehearsal (the step's `--timeout`, 30 min), the
# migration (its Job's deadline is 60 min), the two `pulumi up`s and the rollouts.
MAX_VERDICT_MINUTES = 210
# Flagger's ticks of a release that every check passes, besides one per weight
# (pkg/controller/scheduler.go at v1.44.0): the tick that sees the new revision and scales it up
# (:921-930), the one that runs the pre-rollout webhooks and sets the first weight (:449-459,
# :565-613), the one that routes everything back to the promoted pods (:381-389, :508-530), and
# the one that scales the new version down and says Succeeded (:393-426).
UNJUDGED_TICKS = 4


class CanaryProfile(StrictModel):
    """How a release of the API proves itself beside the promoted one before it takes all traffic."""

    # The canary's share of the API's requests at each step, in percent, rising (Flagger's
    # stepWeights); promotion follows the last.
    weights: tuple[int, ...] = Field(min_length=1, max_length=6)
    # Minutes between Flagger's steps (its analysis interval); each check reads this window.
    analysis_minutes: int = Field(ge=1, le=60)
    # A check on fewer canary requests than this in the window fails: too few to decide.
    min_requests: int = Field(ge=10)
    # The canary's share of 5xx answers, percent of its requests, may not pass this.
    max_error_percent: float = Field(gt=0, le=50)
    # Failed checks (summed over the whole analysis) at which Flagger rolls the release back
    # (its analysis threshold).
    max_failed_checks: int = Field(ge=1, le=10)

    @field_validator("weights")
    @classmethod
    def _rising_shares(cls, weights: tuple[int, ...]) -> tuple[int, ...]:
        outside = [w for w in weights if not 1 <= w <= 99]
        if outside:
            raise ValueError(
                f"{outside[0]} is not a share the canary can take: each weight is 1 to 99 percent "
                "(100 is the promotion)"
            )
        if any(later <= earlier for earlier, later in pairwise(weights)):
            raise ValueError(f"must rise step by step (got {list(weights)})")
        return weights

    @model_validator(mode="after")
    def _enough_to_judge_in_production(self, info: ValidationInfo) -> CanaryProfile:
        if not is_production(info):
            return self
        if self.analysis_minutes < PRODUCTION_MIN_ANALYSIS_MINUTES:
            raise ValueError(
                f"analysis_minutes: a production canary is judged over at least "
                f"{PRODUCTION_MIN_ANALYSIS_MINUTES} minutes (got {self.analysis_minutes})"
            )
        if self.min_requests < PRODUCTION_MIN_REQUESTS:
            raise ValueError(
                f"min_requests: a production canary needs at least {PRODUCTION_MIN_REQUESTS} requests "
                f"to decide (got {self.min_requests})"
            )
        return self

    @model_validator(mode="after")
    def _decided_within_the_deploy_job(self) -> CanaryProfile:
        if self.verdict_minutes() > MAX_VERDICT_MINUTES:
            raise ValueError(
                f"{self.verdict_minutes()} min to Flagger's verdict at most ({len(self.weights)} weights, "
                f"{self.max_failed_checks} failed checks, {self.analysis_minutes}-minute intervals and "
                f"two rollouts), over the {MAX_VERDICT_MINUTES} min a deploy job can wait for it"
            )
        return self

    def ticks(self) -> int:
        """Flagger's analysis intervals from a new API image to Succeeded, when checks fail all they may.

        One per weight and ``UNJUDGED_TICKS`` around them; each failed check short of the
        threshold holds its step one more interval (scheduler.go:461-466).
        """
        return len(self.weights) + UNJUDGED_TICKS + self.max_failed_checks - 1

    def verdict_minutes(self) -> int:
        """The longest wait for Flagger's verdict on a release, from the `pulumi up` that changes the API.

        The first tick comes within one interval, each other one interval later; waiting for the
        new pods, then for the promoted ones, holds a tick until they are ready or the progress
        deadline passes (scheduler.go:294-311, :353-361), whole intervals each.
        """
        waiting = math.ceil(PROGRESS_DEADLINE_SECONDS / (60 * self.analysis_minutes))
        return (self.ticks() + 2 * waiting) * self.analysis_minutes
