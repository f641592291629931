"""How a release of the API proves itself: the canary's steps and what it is judged on.

A release first runs beside stable as ``samokoder-api-canary``, taking a share
of the API's requests at the ingress (``weights``, one step after another);
each step is judged over ``analysis_minutes`` from ingress-nginx's request
metrics by ``samokoder-infra verify`` (infra/ops/canary/judge.py). The latency
bound is the SLO's own threshold (``slo.latency_threshold_seconds``).
"""

from __future__ import annotations

from itertools import pairwise

from pydantic import Field, ValidationInfo, field_validator, model_validator

from infra.settings.base import StrictModel, is_production

# A production canary is judged on enough traffic and time to tell a regression from noise.
PRODUCTION_MIN_ANALYSIS_MINUTES = 5
PRODUCTION_MIN_REQUESTS = 100
# The deploy job runs on a GitHub-hosted runner, cut off after 6 hours (docs.github.com, Actions
# usage limits: "Job execution time"); the longest judging leaves two hours of it for the images,
# the migration (its Job's deadline is 60 min) and the rollouts.
MAX_JUDGING_MINUTES = 240


class CanaryProfile(StrictModel):
    """How a release of the API proves itself beside stable before it takes all traffic."""

    # The canary's share of the API's requests at each step, in percent, rising; promotion follows the last.
    weights: tuple[int, ...] = Field(min_length=1, max_length=6)
    # Each step is judged over this window, after the step has run for as long.
    analysis_minutes: int = Field(ge=1, le=120)
    # Fewer canary requests than this in the window decide nothing (inconclusive).
    min_requests: int = Field(ge=10)
    # The canary's share of 5xx answers may not pass this (percent of its requests) ...
    max_error_percent: float = Field(gt=0, le=50)
    # ... nor stable's share by more than this many percentage points.
    max_error_increase_points: float = Field(gt=0, le=50)
    # The canary's P95 may not pass stable's P95 times this (nor the SLO's latency threshold).
    max_latency_ratio: float = Field(ge=1, le=10)
    # An inconclusive step waits another window and is judged again (over all its time) this many
    # times before the release is aborted.
    inconclusive_retries: int = Field(ge=0, le=5)

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
    def _judged_within_the_deploy_job(self) -> CanaryProfile:
        if self.longest_judged_minutes() > MAX_JUDGING_MINUTES:
            raise ValueError(
                f"{len(self.weights)} weights x {self.analysis_minutes} min x "
                f"(1 + {self.inconclusive_retries} retries) = {self.longest_judged_minutes()} min of judging "
                "at most, over the "
                f"{MAX_JUDGING_MINUTES} min a deploy job can give it"
            )
        return self

    def judged_minutes(self) -> int:
        """How long the steps are judged when every window decides: one window per weight."""
        return len(self.weights) * self.analysis_minutes

    def longest_judged_minutes(self) -> int:
        """Every window but each weight's last inconclusive: the longest judging before a promotion."""
        return self.judged_minutes() * (1 + self.inconclusive_retries)
