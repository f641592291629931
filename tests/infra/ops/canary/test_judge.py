"""The canary's verdict from a window's numbers: each rule flips the outcome on its side of its bound.

The numbers are chosen to be exact in binary (shares of 400 requests, P95s in
halves and quarters), so that a value on a bound is on it, not a rounding
error beside it. The binomial tails the error checks print are checked against
every term of the distribution summed in 50-digit decimals (``exact_tail``),
the bucket rule of the latency ratio against Prometheus's own estimate
(tests/infra/ops/canary/history.py: ``histogram_quantile``).
"""

from __future__ import annotations

import math
import re
import time
from decimal import Decimal

import pytest

from infra.ingress_contract import TIME_BUCKETS_SECONDS
from infra.ops.canary.judge import (
    ALPHA,
    Bounds,
    BurnReading,
    Check,
    Traffic,
    binomial_tail,
    fewest_significant,
    judge,
    ratio_bound,
)
from infra.settings.loader import load_settings
from infra.settings.source import stack_file_values
from tests.conftest import PROJECT_DIR, STACKS
from tests.infra.ops.canary.history import exact_pmf, exact_tail, exact_tails, histogram_quantile

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


# --- errors: the binomial tail ---------------------------------------------------------------


@pytest.mark.parametrize("share", ["0.005", "0.0045", "0.01", "0.3", "0.5", "0.97"])
@pytest.mark.parametrize("n", [1, 10, 200, 1272, 4000])
def test_the_binomial_tail_is_the_exact_sum(n: int, share: str) -> None:
    exact = exact_tails(n, share)
    # Every k from 0 to one past n (every tenth above 200 requests).
    for k in range(0, n + 2, 1 if n <= 200 else 10):
        tail = binomial_tail(k, n, float(share))
        if exact[k] > 1e-290:
            assert tail == pytest.approx(exact[k], rel=1e-9), k
        else:
            assert tail <= 1e-290, k
    assert binomial_tail(0, n, float(share)) == 1.0
    assert binomial_tail(n + 1, n, float(share)) == 0.0


def test_a_share_of_nothing_or_everything() -> None:
    assert binomial_tail(1, 100, 0.0) == 0.0
    assert binomial_tail(0, 100, 0.0) == 1.0
    assert binomial_tail(100, 100, 1.0) == 1.0
    # Stable's share plus the allowance may pass 100 %: then nothing is over it.
    assert binomial_tail(100, 100, 1.2) == 1.0


@pytest.mark.parametrize("share", [0.5, 0.005, 1e-6])
def test_ten_million_requests_are_summed_quickly_and_agree_with_their_mirror(share: float) -> None:
    """P(X >= k) + P(n - X >= n - k + 1) = 1: the sum upward from k against the one downward from n - k."""
    n = 10**7
    mean, sd = n * share, math.sqrt(n * share * (1 - share))
    started = time.perf_counter()
    for k in (
        round(mean - 3 * sd),
        round(mean),
        round(mean) + 1,
        round(mean + 3 * sd),
        round(mean + 20 * sd),
    ):
        tail = binomial_tail(k, n, share)
        # 1 - share is a rounded double: taken 10^7 times in the log, it moves the tail by some 1e-9.
        assert tail + binomial_tail(n - k + 1, n, 1 - share) == pytest.approx(1.0, abs=1e-7)
        if share == 0.5:
            # With a million events on either side, the normal curve (continuity-corrected) is within 1e-4.
            assert tail == pytest.approx(0.5 * math.erfc((k - 0.5 - mean) / sd / math.sqrt(2)), abs=1e-4)
    # Every 5xx among ten million at a share of at most one half: far beyond a double.
    assert binomial_tail(n, n, share) == 0.0
    # A few milliseconds each on a laptop; the bound only catches a sum that runs away.
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize(
    ("requests", "percent", "fewest"),
    [
        # At 1 expected, P(X >= 4) = 1.8 % and P(X >= 5) = 0.35 %; at 100 expected, the normal
        # curve's 2.33 standard deviations (10) above the mean, and a little more for the skew.
        (200, 0.5, 5),
        (20_000, 0.5, 125),
        (10, 50.0, 10),
        # Not even every request failing is unlikely enough.
        (5, 50.0, None),
    ],
)
def test_the_fewest_5xx_over_a_bound(requests: int, percent: float, fewest: int | None) -> None:
    assert fewest_significant(requests, percent) == fewest
    share = str(Decimal(str(percent)) / 100)
    if fewest is not None:
        assert exact_tail(fewest, requests, share) < ALPHA <= exact_tail(fewest - 1, requests, share)
    else:
        assert exact_tail(requests, requests, share) >= ALPHA


# --- errors: the checks ------------------------------------------------------------------------

TAIL = r"P\(>= (\d+)\) (= [\d.e+-]+|< 1e-300)"
PRINTED = re.compile(
    rf"5xx: canary (\d+) of (\d+) requests, stable (\d+) of (\d+); expected at [\d.]+ %: "
    rf"canary ([\d.]+) \({TAIL}\), stable ([\d.]+) \({TAIL}\); at stable's [\d.]+ % \+ [\d.]+ points = "
    rf"([\d.]+) %: canary ([\d.]+) \({TAIL}\); over a bound when P < 0.01$"
)


def counts(errors: int, requests: int, p95: float = 0.25) -> Traffic:
    return Traffic(float(requests), float(errors), p95)


def assert_printed_tail(printed: str, exact: float) -> None:
    if printed == "< 1e-300":
        assert exact < 1e-300
    else:
        # Two significant digits.
        assert float(printed.removeprefix("= ")) == pytest.approx(exact, rel=0.051, abs=1e-300)


@pytest.mark.parametrize(
    ("canary_errors", "canary_requests", "stable_errors", "stable_requests", "expected"),
    [
        # Exact tails at 1 %, stable's at 1 %, and at stable's + 0.5 points, in the comments.
        (0, 400, 10, 4000, "pass"),
        # On the bound: 4 of 400, 4 expected (0.57; 1; 0.35).
        (4, 400, 10, 4000, "pass"),
        # 1.75 %, over both bounds as read, not beyond chance (0.11; 1; 0.033): once a failure.
        (7, 400, 10, 4000, "pass"),
        # 3 % (0.00085; 1; 6.5e-05).
        (12, 400, 10, 4000, "fail"),
        # The same 2 % share on 200 requests (0.14; 1; 0.065) and on 20,000 (4e-36; 1; 1e-64).
        (4, 200, 10, 4000, "pass"),
        (400, 20_000, 10, 4000, "fail"),
        # Stable at 3 %, beyond chance (7.5e-25): the canary at 3 % or 3.5 % is not to blame
        # (0.00085, 0.74; 6.8e-05, 0.54) ...
        (12, 400, 120, 4000, "inconclusive"),
        (14, 400, 120, 4000, "inconclusive"),
        # ... at 2 % it is not over the bound (0.05; 0.97): once inconclusive, now a pass ...
        (8, 400, 120, 4000, "pass"),
        # ... and at 8 % it is over stable's + 0.5 points (5.5e-19; 1.7e-05).
        (32, 400, 120, 4000, "fail"),
        # Stable at 1.1 % is over the bound as read, not beyond chance (0.28): the canary at 3 %
        # (0.00085), within stable's + 0.5 points (0.03), is over a bound stable is not.
        (12, 400, 44, 4000, "fail"),
        # Within 1 % (0.52), over stable's 0 % + 0.5 points (1.5e-08).
        (80, 8000, 0, 40_000, "fail"),
    ],
)
def test_the_5xx_against_the_bounds(
    canary_errors: int, canary_requests: int, stable_errors: int, stable_requests: int, expected: str
) -> None:
    verdict = judge(
        counts(canary_errors, canary_requests), counts(stable_errors, stable_requests), QUIET, BOUNDS
    )
    assert outcome(verdict.checks, "errors") == expected
    assert (
        verdict.decision == {"pass": "promote", "fail": "roll back", "inconclusive": "inconclusive"}[expected]
    )
    line = verdict.checks[1].line()
    c_share, s_share = 100 * canary_errors / canary_requests, 100 * stable_errors / stable_requests
    assert f"5xx share: canary {c_share:.2f} %, stable {s_share:.2f} %" in line
    match = PRINTED.search(line)
    assert match, line
    (
        (kc, nc, ks, ns),
        (e_canary, _, p_canary, e_stable, _, p_stable),
        (relative, e_relative, _, p_relative),
    ) = (match.groups()[:4], match.groups()[4:10], match.groups()[10:])
    assert [int(kc), int(nc), int(ks), int(ns)] == [
        canary_errors,
        canary_requests,
        stable_errors,
        stable_requests,
    ]
    limit, increase = Decimal("0.01"), Decimal("0.005")
    relative_share = Decimal(stable_errors) / stable_requests + increase
    assert float(relative) == pytest.approx(float(100 * relative_share), abs=0.005)
    assert float(e_canary) == pytest.approx(canary_requests * 0.01, abs=0.005)
    assert float(e_stable) == pytest.approx(stable_requests * 0.01, abs=0.005)
    assert float(e_relative) == pytest.approx(float(canary_requests * relative_share), abs=0.005)
    assert_printed_tail(p_canary, exact_tail(canary_errors, canary_requests, str(limit)))
    assert_printed_tail(p_stable, exact_tail(stable_errors, stable_requests, str(limit)))
    assert_printed_tail(p_relative, exact_tail(canary_errors, canary_requests, str(relative_share)))


def test_whole_counts_from_extrapolated_increases() -> None:
    # increase() extrapolates to the window's edges: 2.4 5xx were 2, 2.6 were 3; never more than the requests.
    assert Traffic(400.2, 2.4, 0.25).failed == 2
    assert Traffic(400.2, 2.6, 0.25).failed == 3
    assert Traffic(10.2, 10.6, 0.25).failed == 10
    assert Traffic(400.0, None, 0.25).failed == 0
    assert Traffic(None, 3.0, 0.25).failed == 0


def test_no_5xx_series_is_no_error() -> None:
    verdict = judge(Traffic(CANARY_REQUESTS, None, 0.25), Traffic(STABLE_REQUESTS, None, 0.25), QUIET, BOUNDS)
    assert verdict.decision == "promote"
    assert "canary 0.00 %, stable 0.00 %" in verdict.checks[1].line()
    assert "5xx: canary 0 of 400 requests, stable 0 of 4000" in verdict.checks[1].line()


def test_a_failed_check_names_its_numbers_in_the_verdict() -> None:
    verdict = judge(counts(20, 400), counts(10, 4000), QUIET, BOUNDS)
    assert verdict.exit_code == 1
    tail = exact_tail(20, 400, "0.01")
    assert verdict.line().startswith(
        f"verdict: ROLL BACK (exit 1): errors: canary over 1 % (20 5xx, 4.00 expected: P(>= 20) = {tail:.2g} "
        "< 0.01); stable not over it (10 5xx, 40.00 expected: P(>= 10) = 1 >= 0.01)"
    )


def prod_bounds() -> Bounds:
    return Bounds.of(load_settings("prod", stack_file_values(PROJECT_DIR / "Pulumi.prod.yaml"), offline=True))


def test_one_5xx_in_200_requests_does_not_roll_prod_back() -> None:
    """Prod's bounds: 0.5 %, and stable's 0.2 % + 0.25 points. One 5xx in 200 is 0.5 %, over 0.45 %."""
    bounds = prod_bounds()
    assert (bounds.max_error_percent, bounds.max_error_increase_points) == (0.5, 0.25)
    verdict = judge(counts(1, 200), counts(8, 4000), QUIET, bounds)
    assert outcome(verdict.checks, "errors") == "pass"
    # A regression prod's traffic shows is still caught: 5 % of 500s.
    assert outcome(judge(counts(10, 200), counts(8, 4000), QUIET, bounds).checks, "errors") == "fail"


@pytest.mark.parametrize(
    ("requests", "canary_share", "stable_errors", "at_most"),
    [
        # A canary exactly as good as stable (0.2 %) on prod's minimum of 200 requests: each 5xx
        # over 0.45 % used to roll back, one in three windows (1 - 0.998^200 = 0.33).
        (200, "0.002", 8, 0.001),
        # A canary right on prod's bound of 0.5 % (stable at 0.3 %, so the bound is the tighter
        # one): rolled back in at most ALPHA of the windows, at every size.
        (200, "0.005", 12, ALPHA),
        (2000, "0.005", 12, ALPHA),
        (20_000, "0.005", 12, ALPHA),
    ],
)
def test_how_often_a_canary_no_worse_than_the_bounds_is_rolled_back(
    requests: int, canary_share: str, stable_errors: int, at_most: float
) -> None:
    """Over every 5xx count the canary may get in a window, weighed by its exact probability."""
    bounds = prod_bounds()
    rolled_back, ignored = Decimal(0), Decimal(0)
    for errors, chance in enumerate(exact_pmf(requests, canary_share)):
        if chance < Decimal("1e-30"):
            # Counted as rolled back, whatever the judge says: a bound that holds even so.
            ignored += chance
        elif (
            judge(counts(errors, requests), counts(stable_errors, 4000), QUIET, bounds).decision
            == "roll back"
        ):
            rolled_back += chance
    assert float(rolled_back + ignored) <= at_most
    # The windows judged at all make up all but a sliver of the chances.
    assert ignored < Decimal("1e-20")


# --- latency --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p95", "ratio", "bound"),
    [
        # 40 ms x 1.5 = 60 ms, within the 50-100 ms bucket.
        (0.04, 1.5, 0.1),
        (0.2, 2.0, 0.5),
        # On a bucket bound: that bound.
        (0.25, 2.0, 0.5),
        (0.125, 2.0, 0.25),
        (5.0, 2.0, 10.0),
        # Past the last finite bound: the +Inf bucket tells nothing.
        (6.0, 2.0, math.inf),
    ],
)
def test_the_ratio_is_read_at_the_next_bucket_bound(p95: float, ratio: float, bound: float) -> None:
    assert ratio_bound(p95, ratio, TIME_BUCKETS_SECONDS) == bound


@pytest.mark.parametrize("within", [0.5, 0.949, 0.95, 0.96, 1.0])
def test_a_p95_past_a_bucket_bound_is_a_count_not_an_interpolation(within: float) -> None:
    """Prometheus's P95 is past a bucket bound (0.1 s) exactly when under 95 % of requests are within it."""
    p95 = histogram_quantile(0.95, ((0.06, within), (0.2, 1 - within)))
    assert (p95 > 0.1) is (within < 0.95)


@pytest.mark.parametrize(
    ("canary_p95", "stable_p95", "expected"),
    [
        # At the SLO's threshold and at stable's times the ratio: passes.
        (1.0, 0.5, "pass"),
        (0.25, 0.125, "pass"),
        # Past the bucket bound at stable's times the ratio (0.25 s), well within the SLO.
        (0.5, 0.125, "fail"),
        # Past the SLO while stable is within it (though within stable's times the ratio).
        (1.25, 0.75, "fail"),
        # Stable past the SLO too, the canary not past the bound at stable's times the ratio (5 s):
        # not the canary's fault.
        (2.5, 1.5, "inconclusive"),
        (3.0, 1.5, "inconclusive"),
        # Over stable's times the ratio (3 s), not past its bucket's bound: once a failure.
        (4.5, 1.5, "inconclusive"),
        # ... past it: the canary's fault.
        (7.5, 1.5, "fail"),
        (0.125, 2.5, "pass"),
        # Tiny P95s: 90 ms over 40 ms x 2, not past the bucket bound at 100 ms: once a failure.
        (0.09, 0.04, "pass"),
        (0.12, 0.04, "fail"),
        # 450 ms over 200 ms x 2, not past 500 ms: once a failure; 550 ms is past it.
        (0.45, 0.2, "pass"),
        (0.55, 0.2, "fail"),
    ],
)
def test_the_p95(canary_p95: float, stable_p95: float, expected: str) -> None:
    verdict = judge(canary(p95=canary_p95), stable(p95=stable_p95), QUIET, BOUNDS)
    assert outcome(verdict.checks, "latency") == expected
    assert (
        verdict.decision == {"pass": "promote", "fail": "roll back", "inconclusive": "inconclusive"}[expected]
    )
    assert f"canary {canary_p95:.3f} s, stable {stable_p95:.3f} s" in verdict.checks[2].line()


@pytest.mark.parametrize(
    ("canary_p95", "stable_p95", "expected", "said"),
    [
        # 70 ms against 40 ms x 1.5 = 60 ms: within the 100 ms bucket bound.
        (0.07, 0.04, "pass", "stable x 1.5 = 0.060 s, read at the bucket bound 0.1 s"),
        (1.5, 0.2, "fail", "canary's 1.500 s over the SLO's 1 s; stable's 0.200 s within it"),
        # Within the SLO, past the bucket bound of 200 ms x 1.5 = 300 ms.
        (0.75, 0.2, "fail", "canary's 0.750 s past 0.5 s, the first bucket bound at or above stable's x 1.5"),
    ],
)
def test_the_p95_with_prods_bounds(canary_p95: float, stable_p95: float, expected: str, said: str) -> None:
    bounds = prod_bounds()
    assert (bounds.max_latency_ratio, bounds.latency_threshold_seconds) == (1.5, 1.0)
    verdict = judge(canary(p95=canary_p95), stable(p95=stable_p95), QUIET, bounds)
    assert outcome(verdict.checks, "latency") == expected
    assert said in verdict.checks[2].line()


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
