"""The canary's verdict from a window's numbers: each rule flips the outcome on its side of its bound.

The numbers are chosen to be exact in binary (shares of 400 requests, P95s in
halves and quarters), so that a value on a bound is on it, not a rounding
error beside it.
"""

from __future__ import annotations

import math

import pytest

from infra.ops.canary.judge import Bounds, BurnReading, Check, Traffic, judge
from infra.settings.loader import load_settings
from infra.settings.source import stack_file_values
from tests.conftest import PROJECT_DIR, STACKS

BOUNDS = Bounds(
    min_requests=100,
    max_error_percent=1.0,
    max_error_increase_points=0.5,
    max_latency_ratio=2.0,
    latency_threshold_seconds=1.0,
)
CANARY_REQUESTS = 400.0
STABLE_REQUESTS = 4000.0


def canary(
    error_percent: float = 0.25, p95: float | None = 0.25, requests: float | None = CANARY_REQUESTS
) -> Traffic:
    errors = None if requests is None else requests * error_percent / 100
    return Traffic(requests, errors, p95)


def stable(
    error_percent: float = 0.25, p95: float | None = 0.25, requests: float | None = STABLE_REQUESTS
) -> Traffic:
    errors = None if requests is None else requests * error_percent / 100
    return Traffic(requests, errors, p95)


def burn(
    long: float | None = 0.001, short: float | None = 0.001, slo: str = "availability", factor: float = 6.0
) -> BurnReading:
    """A paging clause of a 99 % SLO (budget 1 %): 6x fires above 6 %."""
    return BurnReading(slo, "6h", "30m", factor, 0.01, long, short)


QUIET = (burn(), burn(slo="latency"))


def outcome(checks: tuple[Check, ...], name: str) -> str:
    found = [check for check in checks if check.name == name]
    assert len(found) == 1
    return found[0].outcome


def test_a_canary_like_stable_is_promoted() -> None:
    verdict = judge(canary(), stable(), QUIET, BOUNDS)
    assert verdict.decision == "promote"
    assert verdict.exit_code == 0
    assert [c.outcome for c in verdict.checks] == ["pass"] * 5


# --- requests -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requests", "expected", "said"),
    [
        (None, "inconclusive", "no data"),
        (0.0, "inconclusive", "0 requests, 100 needed"),
        (99.0, "inconclusive", "99 requests, 100 needed"),
        # increase() extrapolates: 99.4 requests were 99, 99.6 were 100.
        (99.4, "inconclusive", "99 requests, 100 needed"),
        (99.6, "pass", "canary 100, stable 4000"),
        (100.0, "pass", "canary 100, stable 4000"),
        (math.nan, "inconclusive", "no data"),
    ],
)
def test_too_few_canary_requests_decide_nothing(requests: float | None, expected: str, said: str) -> None:
    verdict = judge(canary(requests=requests), stable(), QUIET, BOUNDS)
    check = verdict.checks[0]
    assert check.name == "requests"
    assert check.outcome == expected
    assert said in check.line()
    assert verdict.decision == ("promote" if expected == "pass" else "inconclusive")


@pytest.mark.parametrize("requests", [None, 0.0])
def test_no_stable_requests_to_compare_with(requests: float | None) -> None:
    verdict = judge(canary(), stable(requests=requests), QUIET, BOUNDS)
    assert verdict.decision == "inconclusive"
    assert "no stable requests" in verdict.reason


def test_too_few_requests_are_not_judged_however_bad_they_look() -> None:
    verdict = judge(canary(error_percent=50.0, p95=5.0, requests=20.0), stable(), QUIET, BOUNDS)
    assert verdict.decision == "inconclusive"
    assert verdict.exit_code == 3
    assert outcome(verdict.checks, "errors") == "not judged"
    assert outcome(verdict.checks, "latency") == "not judged"
    # The numbers are shown all the same.
    assert "canary 50.00 %" in verdict.checks[1].line()
    assert verdict.reason == "requests: 20 requests, 100 needed"


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("canary_percent", "stable_percent", "expected"),
    [
        # At the bound, and at stable's share plus the increase: passes.
        (1.0, 0.5, "pass"),
        (0.75, 0.25, "pass"),
        # Just past stable's plus the increase, while below the bound: a regression.
        (1.0, 0.25, "fail"),
        # Past the bound while stable is within it (though within stable's plus the increase).
        (1.25, 1.0, "fail"),
        # Stable over the bound too, the canary no worse than allowed: not the canary's fault.
        (3.0, 3.0, "inconclusive"),
        (3.5, 3.0, "inconclusive"),
        (2.0, 3.0, "inconclusive"),
        # ... but worse than stable by more than the increase: the canary's fault.
        (3.75, 3.0, "fail"),
        # Stable over the bound, the canary within it: the canary passes.
        (0.25, 8.0, "pass"),
        (0.0, 0.0, "pass"),
    ],
)
def test_the_error_share(canary_percent: float, stable_percent: float, expected: str) -> None:
    verdict = judge(canary(canary_percent), stable(stable_percent), QUIET, BOUNDS)
    assert outcome(verdict.checks, "errors") == expected
    assert (
        verdict.decision == {"pass": "promote", "fail": "roll back", "inconclusive": "inconclusive"}[expected]
    )
    assert f"canary {canary_percent:.2f} %, stable {stable_percent:.2f} %" in verdict.checks[1].line()


def test_no_5xx_series_is_no_error() -> None:
    verdict = judge(Traffic(CANARY_REQUESTS, None, 0.25), Traffic(STABLE_REQUESTS, None, 0.25), QUIET, BOUNDS)
    assert verdict.decision == "promote"
    assert "canary 0.00 %, stable 0.00 %" in verdict.checks[1].line()


def test_a_failed_check_names_its_numbers_in_the_verdict() -> None:
    verdict = judge(canary(5.0), stable(0.25), QUIET, BOUNDS)
    assert verdict.exit_code == 1
    assert verdict.line().startswith("verdict: ROLL BACK (exit 1): errors: canary 5.00 % > 1 %")


# --- latency --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("canary_p95", "stable_p95", "expected"),
    [
        # At the SLO's threshold and at stable's times the ratio: passes.
        (1.0, 0.5, "pass"),
        (0.25, 0.125, "pass"),
        # Past stable's times the ratio, well within the SLO.
        (0.5, 0.125, "fail"),
        # Past the SLO while stable is within it (though within stable's times the ratio).
        (1.25, 0.75, "fail"),
        # Stable past the SLO too, the canary not slower than allowed: not the canary's fault.
        (2.5, 1.5, "inconclusive"),
        (3.0, 1.5, "inconclusive"),
        # ... but slower than stable's times the ratio: the canary's fault.
        (3.5, 1.5, "fail"),
        (0.125, 2.5, "pass"),
    ],
)
def test_the_p95(canary_p95: float, stable_p95: float, expected: str) -> None:
    verdict = judge(canary(p95=canary_p95), stable(p95=stable_p95), QUIET, BOUNDS)
    assert outcome(verdict.checks, "latency") == expected
    assert (
        verdict.decision == {"pass": "promote", "fail": "roll back", "inconclusive": "inconclusive"}[expected]
    )
    assert f"canary {canary_p95:.3f} s, stable {stable_p95:.3f} s" in verdict.checks[2].line()


@pytest.mark.parametrize("p95", [None, math.nan])
def test_requests_without_a_latency_are_inconclusive(p95: float | None) -> None:
    # Only websockets answered (their 101s are left out of the latency): nothing to compare.
    verdict = judge(canary(p95=p95), stable(), QUIET, BOUNDS)
    assert outcome(verdict.checks, "latency") == "inconclusive"
    assert verdict.decision == "inconclusive"


def test_a_failure_outweighs_an_inconclusive_check() -> None:
    verdict = judge(canary(3.0, p95=5.0), stable(3.0, p95=0.25), QUIET, BOUNDS)
    assert outcome(verdict.checks, "errors") == "inconclusive"
    assert outcome(verdict.checks, "latency") == "fail"
    assert verdict.decision == "roll back"
    assert verdict.reason.startswith("latency:")


# --- burn-rate alerts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("long", "short", "fires"),
    [
        (0.08, 0.07, True),
        # Both windows must pass the bound (6 x 1 % = 6 %); on it is not past it.
        (0.08, 0.05, False),
        (0.05, 0.08, False),
        (0.06, 0.08, False),
        (None, 0.08, False),
        (0.08, None, False),
    ],
)
def test_a_burn_window_fires_when_both_its_windows_pass_the_bound(
    long: float | None, short: float | None, fires: bool
) -> None:
    reading = burn(long, short)
    assert reading.fires is fires
    verdict = judge(canary(), stable(), (reading,), BOUNDS)
    assert verdict.decision == ("inconclusive" if fires else "promote")
    assert verdict.checks[-1].outcome == ("inconclusive" if fires else "pass")


def test_the_stack_burning_holds_a_good_canary_and_says_it_is_stable() -> None:
    verdict = judge(canary(0.25), stable(8.0), (burn(0.08, 0.075), burn(slo="latency")), BOUNDS)
    assert verdict.decision == "inconclusive"
    assert verdict.exit_code == 3
    assert "burns its availability error budget, and not because of the canary" in verdict.reason
    assert "canary 0.25 % <= stable 8.00 %" in verdict.reason
    assert "burn availability 6h/30m: INCONCLUSIVE: fires; availability error ratio over 6h 8.00 %" in (
        verdict.checks[3].line()
    )


def test_a_latency_burn_compares_the_p95s() -> None:
    verdict = judge(canary(p95=0.25), stable(p95=0.5), (burn(), burn(0.5, 0.5, slo="latency")), BOUNDS)
    assert verdict.decision == "inconclusive"
    assert "burns its latency error budget" in verdict.reason
    assert "P95: canary 0.250 s <= stable 0.500 s" in verdict.reason


def test_a_failing_canary_is_rolled_back_while_the_stack_burns() -> None:
    verdict = judge(canary(5.0), stable(0.25), (burn(0.08, 0.08),), BOUNDS)
    assert verdict.decision == "roll back"
    assert verdict.exit_code == 1


def test_the_stack_burning_with_too_few_canary_requests_blames_nobody() -> None:
    verdict = judge(canary(requests=10.0), stable(8.0), (burn(0.08, 0.08),), BOUNDS)
    assert verdict.decision == "inconclusive"
    assert "not because of the canary" not in verdict.reason
    assert "burns its availability error budget" in verdict.reason


# --- the bounds come from the stack's settings -------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_the_bounds_are_the_stacks_settings(stack: str) -> None:
    settings = load_settings(stack, stack_file_values(PROJECT_DIR / f"Pulumi.{stack}.yaml"), offline=True)
    bounds = Bounds.of(settings)
    assert bounds.min_requests == settings.canary.min_requests
    assert bounds.max_error_percent == settings.canary.max_error_percent
    assert bounds.max_error_increase_points == settings.canary.max_error_increase_points
    assert bounds.max_latency_ratio == settings.canary.max_latency_ratio
    assert bounds.latency_threshold_seconds == settings.slo.latency_threshold_seconds
