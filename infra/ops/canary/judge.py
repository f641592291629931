"""The canary's verdict from the numbers of a window: no I/O, just the rules.

Each check passes, fails or is inconclusive; the verdict follows: any failed
check rolls the canary back (exit 1), else any inconclusive one holds it
(exit 3), else it is promoted (exit 0).

* requests: fewer canary requests than ``min_requests`` in the window (or
  none at all), or no stable requests to compare with, decide nothing: the
  other canary checks are then not judged;
* errors: the canary's 5xx share may not pass ``max_error_percent`` (unless
  stable's does too) nor stable's share plus ``max_error_increase_points``;
* latency: the canary's P95 may not pass the SLO's threshold (unless stable's
  does too) nor stable's P95 times ``max_latency_ratio``;
* when both sides are over an absolute bound and the canary is no worse than
  stable by more than allowed, the canary is not to blame: inconclusive;
* a paging burn-rate alert of the stack firing holds a canary that passed
  (never a promotion while the stack burns its budget); a canary that failed
  is rolled back anyway.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from infra.settings.stack import StackSettings

Outcome = Literal["pass", "fail", "inconclusive", "not judged"]
Decision = Literal["promote", "roll back", "inconclusive"]
EXIT_CODES: dict[Decision, int] = {"promote": 0, "roll back": 1, "inconclusive": 3}


@dataclass(frozen=True)
class Bounds:
    """What the canary is held to: the stack's canary settings and the latency SLO's threshold."""

    min_requests: int
    max_error_percent: float
    max_error_increase_points: float
    max_latency_ratio: float
    latency_threshold_seconds: float

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


def errors_check(canary: Traffic, stable: Traffic, bounds: Bounds) -> Check:
    c, s = canary.error_percent, stable.error_percent
    limit, increase = bounds.max_error_percent, bounds.max_error_increase_points
    if c is None or s is None:
        return Check("errors", "not judged", "", f"5xx share: canary {_percent(c)}, stable {_percent(s)}")
    numbers = (
        f"5xx share: canary {c:.2f} %, stable {s:.2f} % "
        f"(bounds: {limit:g} %, and stable + {increase:g} points = {s + increase:.2f} %)"
    )
    if c > limit and s <= limit:
        return Check("errors", "fail", f"canary {c:.2f} % > {limit:g} % (stable {s:.2f} %)", numbers)
    if c > s + increase:
        return Check("errors", "fail", f"canary {c:.2f} % > stable {s:.2f} % + {increase:g} points", numbers)
    if c > limit:
        finding = (
            f"stable is above {limit:g} % too (canary {c:.2f} %, stable {s:.2f} %), and the canary is not "
            f"worse by more than {increase:g} points: not the canary's fault"
        )
        return Check("errors", "inconclusive", finding, numbers)
    return Check("errors", "pass", "", numbers)


def latency_check(canary: Traffic, stable: Traffic, bounds: Bounds) -> Check:
    c, s = canary.p95, stable.p95
    limit, ratio = bounds.latency_threshold_seconds, bounds.max_latency_ratio
    if c is None or s is None:
        # Requests on both sides, but no latency on one: only websockets (left out) were answered.
        outcome: Outcome = "not judged" if canary.counted is None or not stable.counted else "inconclusive"
        finding = "" if outcome == "not judged" else "no latency to compare (only websockets?)"
        numbers = f"P95 (websockets left out): canary {_seconds(c)}, stable {_seconds(s)}"
        return Check("latency", outcome, finding, numbers)
    numbers = (
        f"P95 (websockets left out): canary {c:.3f} s, stable {s:.3f} s "
        f"(bounds: the SLO's {limit:g} s, and stable x {ratio:g} = {s * ratio:.3f} s)"
    )
    if c > limit and s <= limit:
        finding = f"canary {c:.3f} s > the SLO's {limit:g} s (stable {s:.3f} s)"
        return Check("latency", "fail", finding, numbers)
    if c > s * ratio:
        return Check("latency", "fail", f"canary {c:.3f} s > stable {s:.3f} s x {ratio:g}", numbers)
    if c > limit:
        finding = (
            f"stable is above {limit:g} s too (canary {c:.3f} s, stable {s:.3f} s), and the canary is not "
            f"slower than stable x {ratio:g}: not the canary's fault"
        )
        return Check("latency", "inconclusive", finding, numbers)
    return Check("latency", "pass", "", numbers)


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
