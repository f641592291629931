"""The canary's settings: shares that rise, enough to judge in production, no looser than the alerts."""

from __future__ import annotations

import pytest

from infra.settings.loader import ConfigError, read_profile, validate_settings
from tests.conftest import stack_file_values, with_changes

NEXT = {"api": "sha256:" + "a" * 64, "worker": "sha256:" + "b" * 64, "frontend": "sha256:" + "c" * 64}


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
    assert prod["max_error_increase_points"] <= staging["max_error_increase_points"]
    assert prod["max_latency_ratio"] <= staging["max_latency_ratio"]
    assert prod["min_requests"] >= staging["min_requests"]
    assert prod["analysis_minutes"] >= staging["analysis_minutes"]
    assert prod["weights"][0] <= staging["weights"][0]


def test_a_recorded_canary_needs_a_new_api_image_and_a_share() -> None:
    canary = {"id": "r2", "migration_revision": "bbbb2222", "images": NEXT, "weight": 25}
    assert problems("staging", {}, {"canary": canary}) == []
    running_api = stack_file_values("staging")["release"]["images"]["api"]
    (same,) = problems("staging", {}, {"canary": {**canary, "images": {**NEXT, "api": running_api}}})
    assert "has the stable release's API image: there is nothing to judge" in same
    (whole,) = problems("staging", {}, {"canary": {**canary, "weight": 100}})
    assert "release.canary.weight" in whole
    (tagged,) = problems("staging", {}, {"canary": {**canary, "images": {**NEXT, "api": "latest"}}})
    assert "release.canary.images.api" in tagged


def test_the_longest_judging_fits_in_a_deploy_job() -> None:
    """Six weights of 60 minutes with a retry each is 12 hours: a hosted runner stops at 6."""
    (problem,) = problems(
        "staging", {"canary.weights": [5, 10, 20, 30, 40, 50], "canary.analysis_minutes": 60}
    )
    assert "= 720 min of judging at most, over the 240 min a deploy job can give it" in problem
    assert problems("staging", {"canary.weights": [10, 50], "canary.analysis_minutes": 60}) == []
