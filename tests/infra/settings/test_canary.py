"""Flagger's analysis settings: shares that rise, enough to judge in production, no looser than the alerts."""

from __future__ import annotations

import pytest

from infra.settings.loader import ConfigError, read_profile, validate_settings
from tests.conftest import stack_file_values, with_changes


def problems(stack: str, changes: dict[str, object], release: dict[str, object] | None = None) -> list[str]:
    profile = with_changes(read_profile(stack), changes)
    config = stack_file_values(stack)
    if release is not None:
        config = {**config, "release": {**config["release"], **release}}
    try:
        validate_settings(stack, profile, config, offline=True)
    except ConfigError as error:
        return [str(p) for p in error.problems]
    return []


@pytest.mark.parametrize(
    ("weights", "said"),
    [
        ([25, 10], "must rise step by step"),
        ([10, 10], "must rise step by step"),
        ([0, 50], "0 is not a share the canary can take"),
        ([50, 100], "100 is not a share the canary can take"),
        ([], "at least 1 item"),
    ],
)
def test_weights_are_rising_shares_below_the_whole(weights: list[int], said: str) -> None:
    (problem,) = problems("staging", {"canary.weights": weights})
    assert problem.startswith("stacks/staging.yaml: canary.weights:")
    assert said in problem


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("canary.analysis_minutes", 2, "at least 5 minutes"),
        ("canary.min_requests", 50, "at least 100 requests"),
    ],
)
def test_a_production_canary_is_judged_on_enough_time_and_traffic(key: str, value: int, said: str) -> None:
    (problem,) = problems("prod", {key: value})
    assert said in problem
    # The same values are a staging stack's to choose.
    assert problems("staging", {key: value}) == []


def test_a_canary_may_not_pass_more_errors_than_the_warning_alert() -> None:
    (problem,) = problems("prod", {"canary.max_error_percent": 2.0})
    assert "canary.max_error_percent (2) is above thresholds.error_rate.warning (1)" in problem
    assert problems("prod", {"canary.max_error_percent": 1.0}) == []


def test_prod_judges_more_strictly_than_staging() -> None:
    staging, prod = read_profile("staging")["canary"], read_profile("prod")["canary"]
    assert prod["max_error_percent"] <= staging["max_error_percent"]
    assert prod["min_requests"] >= staging["min_requests"]
    assert prod["analysis_minutes"] >= staging["analysis_minutes"]
    assert prod["weights"][0] <= staging["weights"][0]


@pytest.mark.parametrize("key", ["max_error_increase_points", "max_latency_ratio", "inconclusive_retries"])
def test_the_home_made_judges_settings_are_refused_by_name(key: str) -> None:
    """Flagger judges the canary on its own requests; what compared it with stable is gone."""
    (problem,) = problems("staging", {f"canary.{key}": 1})
    assert f"canary.{key}" in problem
    assert problem.endswith("unknown key")


@pytest.mark.parametrize("value", [0, 11])
def test_failed_checks_are_one_to_ten(value: int) -> None:
    (problem,) = problems("staging", {"canary.max_failed_checks": value})
    assert "canary.max_failed_checks" in problem


def test_a_release_skips_analysis_only_when_it_says_so() -> None:
    assert problems("staging", {}, {"skip_analysis": True}) == []
    (wrong,) = problems("staging", {}, {"skip_analysis": "sometimes"})
    assert "release.skip_analysis" in wrong
    (gone,) = problems("staging", {}, {"canary": {"id": "r2", "weight": 25}})
    assert "release.canary" in gone


def test_the_longest_wait_for_flaggers_verdict_fits_in_a_deploy_job() -> None:
    """Six weights of 60 minutes: (6 + 4 + 1) intervals and two rollouts is 13 hours; a runner stops at 6."""
    (problem,) = problems(
        "staging", {"canary.weights": [5, 10, 20, 30, 40, 50], "canary.analysis_minutes": 60}
    )
    assert "780 min to Flagger's verdict at most (6 weights, 2 failed checks, 60-minute intervals" in problem
    assert "over the 210 min a deploy job can wait for it" in problem
    assert problems("staging", {"canary.weights": [10, 50], "canary.analysis_minutes": 20}) == []


@pytest.mark.parametrize(("stack", "minutes"), [("staging", 55), ("prod", 110)])
def test_the_verdict_comes_within_the_ticks_flagger_takes(stack: str, minutes: int) -> None:
    """Staging: (2 weights + 4 + 1 failed check) x 5 min and 2 x 10 min of rollouts; prod: 9 x 10 + 20."""
    profile = validate_settings(stack, read_profile(stack), stack_file_values(stack), offline=True).canary
    assert profile.verdict_minutes() == minutes
