"""The canary's verdict from the numbers of a window: no I/O, just the rules.

Each check passes, fails or is inconclusive; the verdict follows: any failed
check rolls the canary back (exit 1), else any inconclusive one holds it
(exit 3), else it is promoted (exit 0).

* requests: fewer canary requests than ``min_requests`` in the window (or
  none at all), or no stable requests to compare with, decide nothing: the
  other canary checks are then not judged;
* errors: the canary is over a bound only when its 5xx count is significantly
  above what the bound allows: P(X >= its 5xx), X binomial over its requests
  at the bound's share, below ``ALPHA``. The bounds: ``max_error_percent``
  (unless stable's count is significantly over it too), and stable's share
  plus ``max_error_increase_points``;
* latency: the canary's P95 may not pass the SLO's threshold (unless stable's
  does too), nor the first bucket bound at or above stable's P95 times
  ``max_latency_ratio`` (see ``ratio_bound``);
* when both sides are over the absolute bound and the canary is not over
  stable's own by more than allowed, the canary is not to blame: inconclusive;
* a paging burn-rate alert of the stack firing holds a canary that passed
  (never a promotion while the stack burns its budget); a canary that failed
  is rolled back anyway.

Why a test and not the shares as read: at prod's bounds (0.5 %, and stable's
0.2 % + 0.25 points) a single 5xx among 200 canary requests is 0.5 %, and a
canary exactly as good as stable gets one in a third of its windows. With
``ALPHA`` at 0.01, a canary whose true share sits on a bound fails that bound
in at most 1 % of windows (fewer: whole counts make the test conservative);
one as good as stable, far less. The price: a bound is held only as tightly as
the canary's traffic allows (at 200 requests and 0.5 %, 1 expected, it takes 5
to fail; at 20,000, 100 expected, 125). The counts are whole (``increase``
extrapolates to the window's edges). Stable's share in the relative bound is
taken as read: stable carries most of the traffic, and it is not on trial.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from infra.ingress_contract import TIME_BUCKETS_SECONDS
from infra.settings.stack import StackSettings

Outcome = Literal["pass", "fail", "inconclusive", "not judged"]
Decision = Literal["promote", "roll back", "inconclusive"]
EXIT_CODES: dict[Decision, int] = {"promote": 0, "roll back": 1, "inconclusive": 3}

# A side's 5xx count is over a bound when a share on the bound would give as many or more with a
# probability below this: one window in a hundred at worst for a canary exactly on a bound.
ALPHA = 0.01


# --- the binomial upper tail --------------------------------------------------------------------

# The tail is summed until what is left is below this fraction of it: beyond a double's precision.
_PRECISION = 1e-17


def _log_pmf(k: int, n: int, p: float) -> float:
    """log P(X = k), X ~ Binomial(n, p), 0 < p < 1: in logs, neither overflowing nor underflowing at 10^7.

    lgamma(10^7) is about 1.5e8, known to a double's 16 digits: the log is off by 1e-7 at most, the
    probability by a relative 1e-7, far finer than ALPHA asks.
    """
    return (
        math.lgamma(n + 1)
        - math.lgamma(k + 1)
        - math.lgamma(n - k + 1)
        + k * math.log(p)
        + (n - k) * math.log1p(-p)
    )


def _relative_sum(start: int, n: int, p: float, *, upward: bool) -> float:
    """Sum over i from ``start`` away from the mode (up to n, or down to 0) of P(X = i) / P(X = start).

    Each term is the last times the ratio of neighbouring probabilities, which only shrinks away from
    the mode: once a term times ratio / (1 - ratio) (the geometric series that bounds the rest) is
    below _PRECISION of the sum, the rest cannot change it. That takes about sqrt(78 n p (1 - p))
    terms at most (a few standard deviations: about 14,000 at n = 10^7, p = 0.5), and a handful for
    a start far out in the tail.
    """
    odds = p / (1 - p) if upward else (1 - p) / p
    total = term = 1.0
    i = start
    while (i < n) if upward else (i > 0):
        if upward:
            ratio = (n - i) / (i + 1) * odds
            i += 1
        else:
            ratio = i / (n - i + 1) * odds
            i -= 1
        term *= ratio
        total += term
        if ratio < 1 and term * ratio < (1 - ratio) * total * _PRECISION:
            break
    return total


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p): the chance of k or more 5xx among n requests at a share p.

    Summed from k away from the distribution's mode, where the terms shrink: upward when k is above
    the mode; else one minus P(X <= k - 1), summed downward (then the answer is about one half or
    more, with no cancellation to fear). A k far above the mean gives 0.0 (below 1e-308) in a few
    terms.
    """
    if k <= 0 or p >= 1:
        return 1.0
    if k > n or p <= 0:
        return 0.0
    mode = math.floor((n + 1) * p)
    if k > mode:
        return math.exp(_log_pmf(k, n, p) + math.log(_relative_sum(k, n, p, upward=True)))
    below = math.exp(_log_pmf(k - 1, n, p) + math.log(_relative_sum(k - 1, n, p, upward=False)))
    return min(1.0, max(0.0, 1.0 - below))


def fewest_significant(n: int, percent: float) -> int | None:
    """The fewest 5xx among n requests that are over a bound of ``percent`` (None: not even n)."""
    share = percent / 100
    # The tail only falls as k grows: the first k whose tail is below ALPHA, by bisection.
    k = bisect_left(range(n + 1), True, key=lambda k: binomial_tail(k, n, share) < ALPHA)
    return k if k <= n else None


def ratio_bound(p95: float, ratio: float, buckets: Sequence[float]) -> float:
    """The first bucket bound at or above ``p95`` times ``ratio``: what the canary's P95 must pass to fail.

    A P95 is read from a histogram: its bucket is counted, its place within the bucket is only
    interpolated (as if the requests spread evenly across it). DefBuckets are 2 to 2.5 times apart,
    wider than any ratio worth holding a canary to, so stable's 40 ms times 1.5 against a canary's
    70 ms compares two interpolations, not two measurements. A canary's P95 past this bound is:
    fewer than 95 % of its requests took that bound or less, a count read straight from the
    histogram. Past the last finite bound (the +Inf bucket) nothing can be told: infinity.
    """
    limit = p95 * ratio
    return next((bound for bound in buckets if bound >= limit), math.inf)


@dataclass(frozen=True)
class Bounds:
    """What the canary is held to: the stack's canary settings, the latency SLO's threshold, the buckets."""

    min_requests: int
    max_error_percent: float
    max_error_increase_points: float
    max_latency_ratio: float
    latency_threshold_seconds: float
    # The bucket bounds of the request duration histogram P95s are read from.
    buckets: tuple[float, ...] = TIME_BUCKETS_SECONDS

    @classmethod
    def of(cls, settings: StackSettings) -> Bounds:
        canary = settings.canary
        return cls(
            min_requests=canary.min_requests,
            max_error_percent=canary.max_error_percent,
            max_error_increase_points=canary.max_error_increase_points,
            max_latency_ratio=canary.max_latency_ratio,
            latency_threshold_seconds=settings.slo.latency_threshold_seconds,
        )


def _number(value: float | None) -> float | None:
    """A reading, or None where Prometheus had nothing (no series, or NaN from no events)."""
    return None if value is None or math.isnan(value) else value


@dataclass(frozen=True)
class Traffic:
    """One side's numbers over the window, as Prometheus answered (None: no series)."""

    requests: float | None
    errors: float | None
    p95_seconds: float | None

    @property
    def counted(self) -> int | None:
        """Requests in the window, whole (``increase`` extrapolates to the window's edges)."""
        requests = _number(self.requests)
        return None if requests is None else round(requests)

    @property
    def failed(self) -> int:
        """5xx in the window, whole, at most the requests (no 5xx series at all: none failed)."""
        return min(round(_number(self.errors) or 0.0), self.counted or 0)

    @property
    def error_percent(self) -> float | None:
        requests = _number(self.requests)
        if not requests:
            return None
        # No 5xx series at all: none of the requests failed.
        return 100 * (_number(self.errors) or 0.0) / requests

    @property
    def p95(self) -> float | None:
        return _number(self.p95_seconds)


@dataclass(frozen=True)
class BurnReading:
    """One paging burn-rate clause of an SLO at the evaluation time: error ratios against their bound."""

    slo: str
    long_window: str
    short_window: str
    factor: float
    budget: float
    long_ratio: float | None
    short_ratio: float | None

    @property
    def bound(self) -> float:
        return self.factor * self.budget

    @property
    def fires(self) -> bool:
        long, short = _number(self.long_ratio), _number(self.short_ratio)
        return long is not None and short is not None and long > self.bound and short > self.bound


@dataclass(frozen=True)
class Check:
    name: str
    outcome: Outcome
    # What decided the outcome, in a few words ("" when it passed on its numbers).
    finding: str
    # The numbers judged, with their bounds.
    numbers: str

    def line(self) -> str:
        said = f"{self.finding}; " if self.finding else ""
        return f"{self.name}: {self.outcome.upper()}: {said}{self.numbers}"

    def reason(self) -> str:
        return f"{self.name}: {self.finding or self.numbers}"


@dataclass(frozen=True)
class Verdict:
    checks: tuple[Check, ...]
    decision: Decision
    reason: str

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.decision]

    def line(self) -> str:
        return f"verdict: {self.decision.upper()} (exit {self.exit_code}): {self.reason}"


def _percent(value: float | None) -> str:
    return "no data" if value is None else f"{value:.2f} %"


def _seconds(value: float | None) -> str:
    return "no data" if value is None else f"{value:.3f} s"


def _count(side: Traffic) -> str:
    return "no data" if side.counted is None else f"{side.counted}"


def _probability(value: float) -> str:
    return "< 1e-300" if value == 0 else f"= {value:.2g}"


def requests_check(canary: Traffic, stable: Traffic, bounds: Bounds) -> Check:
    needed = bounds.min_requests
    numbers = f"in the window: canary {_count(canary)}, stable {_count(stable)} (canary needs {needed})"
    if canary.counted is None:
        return Check("requests", "inconclusive", "no data: no canary series in the window", numbers)
    if canary.counted < needed:
        return Check("requests", "inconclusive", f"{canary.counted} requests, {needed} needed", numbers)
    if not stable.counted:
        return Check("requests", "inconclusive", "no stable requests to compare with", numbers)
    return Check("requests", "pass", "", numbers)


@dataclass(frozen=True)
class Against:
    """One side's reading against one bound: over it or not, and why, in words."""

    over: bool
    said: str


def _blame(name: str, numbers: str, canary: Against, stable: Against, beside_stable: Against) -> Check:
    """The rule errors and latency share, each with its own sense of "over".

    ``canary`` and ``stable``: each side against the absolute bound (max_error_percent, the SLO's
    threshold); ``beside_stable``: the canary against stable's own reading plus what it may add.
    Over the absolute bound while stable is not, or over stable's plus the allowance: the canary's
    doing. Both over the absolute bound and the canary no worse than allowed: the stack's doing,
    not the canary's, so neither a pass nor a failure.
    """
    if canary.over and not stable.over:
        return Check(name, "fail", f"{canary.said}; {stable.said}", numbers)
    if beside_stable.over:
        return Check(name, "fail", beside_stable.said, numbers)
    if canary.over:
        finding = f"{canary.said}; {stable.said}; {beside_stable.said}: not the canary's fault"
        return Check(name, "inconclusive", finding, numbers)
    return Check(name, "pass", "", numbers)


@dataclass(frozen=True)
class ErrorTest:
    """One side's 5xx against a share: over it when a share on it gives as many with P below ALPHA."""

    # The share in words ("1 %", "stable's 0.20 % + 0.5 points = 0.70 %") and in percent.
    bound: str
    percent: float
    errors: int
    requests: int
    # P(X >= errors), X ~ Binomial(requests, percent / 100).
    tail: float

    @classmethod
    def of(cls, traffic: Traffic, bound: str, percent: float) -> ErrorTest:
        requests, errors = traffic.counted or 0, traffic.failed
        return cls(bound, percent, errors, requests, binomial_tail(errors, requests, percent / 100))

    @property
    def expected(self) -> float:
        return self.requests * self.percent / 100

    @property
    def over(self) -> bool:
        return self.tail < ALPHA

    def tail_said(self) -> str:
        return f"P(>= {self.errors}) {_probability(self.tail)}"

    def against(self, side: str) -> Against:
        """'canary over 1 % (60 5xx, 12.72 expected: P(>= 60) = 3.5e-22 < 0.01)'."""
        verdict = f"over {self.bound}" if self.over else f"not over {self.bound}"
        compared = f"{'<' if self.over else '>='} {ALPHA:g}"
        said = f"{self.errors} 5xx, {self.expected:.2f} expected: {self.tail_said()} {compared}"
        return Against(self.over, f"{side} {verdict} ({said})")


def errors_check(canary: Traffic, stable: Traffic, bounds: Bounds) -> Check:
    c, s = canary.error_percent, stable.error_percent
    if c is None or s is None:
        return Check("errors", "not judged", "", f"5xx share: canary {_percent(c)}, stable {_percent(s)}")
    limit, increase = bounds.max_error_percent, bounds.max_error_increase_points
    points = "point" if increase == 1 else "points"
    relative = f"stable's {s:.2f} % + {increase:g} {points} = {s + increase:.2f} %"
    canary_bound = ErrorTest.of(canary, f"{limit:g} %", limit)
    stable_bound = ErrorTest.of(stable, "it", limit)
    beside_stable = ErrorTest.of(canary, relative, s + increase)
    numbers = (
        f"5xx share: canary {c:.2f} %, stable {s:.2f} %; 5xx: canary {canary_bound.errors} of "
        f"{canary_bound.requests} requests, stable {stable_bound.errors} of {stable_bound.requests}; "
        f"expected at {limit:g} %: canary {canary_bound.expected:.2f} ({canary_bound.tail_said()}), "
        f"stable {stable_bound.expected:.2f} ({stable_bound.tail_said()}); at {relative}: canary "
        f"{beside_stable.expected:.2f} ({beside_stable.tail_said()}); over a bound when P < {ALPHA:g}"
    )
    return _blame(
        "errors",
        numbers,
        canary_bound.against("canary"),
        stable_bound.against("stable"),
        beside_stable.against("canary"),
    )


def latency_check(canary: Traffic, stable: Traffic, bounds: Bounds) -> Check:
    c, s = canary.p95, stable.p95
    limit, ratio = bounds.latency_threshold_seconds, bounds.max_latency_ratio
    if c is None or s is None:
        # Requests on both sides, but no latency on one: only websockets (left out) were answered.
        outcome: Outcome = "not judged" if canary.counted is None or not stable.counted else "inconclusive"
        finding = "" if outcome == "not judged" else "no latency to compare (only websockets?)"
        numbers = f"P95 (websockets left out): canary {_seconds(c)}, stable {_seconds(s)}"
        return Check("latency", outcome, finding, numbers)
    past = ratio_bound(s, ratio, bounds.buckets)
    numbers = (
        f"P95 (websockets left out): canary {c:.3f} s, stable {s:.3f} s (bounds: the SLO's {limit:g} s, "
        f"and stable x {ratio:g} = {s * ratio:.3f} s, read at the bucket bound {past:g} s)"
    )

    over, stable_over, slower = c > limit, s > limit, c > past
    return _blame(
        "latency",
        numbers,
        Against(over, f"canary's {c:.3f} s {'over' if over else 'within'} the SLO's {limit:g} s"),
        Against(stable_over, f"stable's {s:.3f} s {'over' if stable_over else 'within'} it"),
        Against(
            slower,
            f"canary's {c:.3f} s {'past' if slower else 'not past'} {past:g} s, the first bucket bound at "
            f"or above stable's x {ratio:g} ({s * ratio:.3f} s)",
        ),
    )


def _scaled(ratio: float | None) -> float | None:
    value = _number(ratio)
    return None if value is None else value * 100


def burn_check(reading: BurnReading) -> Check:
    name = f"burn {reading.slo} {reading.long_window}/{reading.short_window}"
    numbers = (
        f"{reading.slo} error ratio over {reading.long_window} {_percent(_scaled(reading.long_ratio))}, "
        f"over {reading.short_window} {_percent(_scaled(reading.short_ratio))}; pages above "
        f"{reading.bound * 100:.2f} % in both ({reading.factor:g} x the budget {reading.budget * 100:g} %)"
    )
    if reading.fires:
        return Check(name, "inconclusive", "fires", numbers)
    return Check(name, "pass", "", numbers)


def _compared(slo: str, canary: Traffic, stable: Traffic) -> str:
    """How the canary compares with stable on the SLO that burns."""
    if slo == "availability":
        c, s = canary.error_percent, stable.error_percent
        if c is not None and s is not None:
            return f"5xx: canary {c:.2f} % {'<=' if c <= s else '>'} stable {s:.2f} %"
    else:
        cp, sp = canary.p95, stable.p95
        if cp is not None and sp is not None:
            return f"P95: canary {cp:.3f} s {'<=' if cp <= sp else '>'} stable {sp:.3f} s"
    return "the canary not judged"


def judge(canary: Traffic, stable: Traffic, burns: Sequence[BurnReading], bounds: Bounds) -> Verdict:
    traffic = requests_check(canary, stable, bounds)
    errors = errors_check(canary, stable, bounds)
    latency = latency_check(canary, stable, bounds)
    if traffic.outcome != "pass":
        # Too few requests decide nothing: the numbers are shown, not judged.
        errors = Check(errors.name, "not judged", "", errors.numbers)
        latency = Check(latency.name, "not judged", "", latency.numbers)
    checks = (traffic, errors, latency, *(burn_check(reading) for reading in burns))
    failed = [check for check in checks if check.outcome == "fail"]
    if failed:
        return Verdict(checks, "roll back", "; ".join(check.reason() for check in failed))
    reasons = [check.reason() for check in (traffic, errors, latency) if check.outcome == "inconclusive"]
    for slo in dict.fromkeys(reading.slo for reading in burns if reading.fires):
        if traffic.outcome == "pass":
            reasons.append(
                f"the stack burns its {slo} error budget, and not because of the canary "
                f"({_compared(slo, canary, stable)}): hold"
            )
        else:
            reasons.append(f"the stack burns its {slo} error budget: hold")
    if reasons:
        return Verdict(checks, "inconclusive", "; ".join(reasons))
    return Verdict(checks, "promote", "every check passed and no paging burn-rate alert fires")
