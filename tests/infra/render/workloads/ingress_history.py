"""ingress-nginx's request metrics of the API, canary and stable, as OpenMetrics text to backfill.

A scenario is a list of phases; each phase holds stable's and (during a
release) the canary's traffic for some minutes. Counters integrate their rates
across phases, sampled every minute as a scrape would over the last
``DENSE_MINUTES``, and every ``SPARSE_MINUTES`` before (rate() over the long
windows reads only the samples at its edges, and the backfill is three times
faster); a series appears once its first request is observed (the controller
creates none before), so a release without a single 500 has no 500 series.

The label set is the controller's as our Prometheus stores it (the chart's
ServiceMonitor, honorLabels unset: the request's namespace and service as
``exported_*``), or, for a Prometheus that kept them, as the controller wrote
them. The canary's requests keep the API Ingress's ``ingress`` and
``service`` and carry ``canary``; stable's carry none. The histogram has
client_golang's DefBuckets in Go's spelling; websocket upgrades (101) are
observed when the session closes, minutes later.

The expectations (requests, 5xx shares, P95s) are computed here from the
same phases, independently of the queries under test: what Prometheus should
answer over a window.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

STEP_SECONDS = 60
# The last 75 minutes (the 1 h window and its edge) sampled each minute, the hours before every 5.
DENSE_MINUTES = 75
SPARSE_MINUTES = 5
# client_golang's DefBuckets, as Go prints them (prometheus/histogram.go).
BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
REQUESTS = "nginx_ingress_controller_requests"
DURATION = "nginx_ingress_controller_request_duration_seconds"
# What the controller writes on the requests Flagger's canary answered: its Service is "<apex>-canary"
# (Flagger's canary.go:608-615), the upstream "<namespace>-<service>-<port>" (util.go:50-54).
CANARY_UPSTREAM = "samokoder-samokoder-api-canary-8000"
# A websocket session's request_time: its whole length.
WEBSOCKET_SECONDS = 240.0

_CONTROLLER = "ingress-nginx-controller-7c9d4-abcde"
_TARGET = (
    'job="ingress-nginx-controller-metrics", namespace="ingress-nginx", '
    f'service="ingress-nginx-controller-metrics", pod="{_CONTROLLER}", container="controller", '
    'endpoint="metrics", instance="10.1.0.5:10254"'
)
_CONTROLLER_LABELS = (
    f'controller_namespace="ingress-nginx", controller_class="k8s.io/ingress-nginx", '
    f'controller_pod="{_CONTROLLER}"'
)
_ROUTE = 'ingress="samokoder-api", path="/api(/|$)(.*)"'


def edge_labels(host: str, *, raw: bool) -> str:
    """The labels of the API Ingress's requests, without method, status and canary."""
    if raw:
        # honorLabels: the request's namespace and service won over the target's.
        target = (
            f'job="ingress-nginx-controller-metrics", pod="{_CONTROLLER}", container="controller", '
            'endpoint="metrics", instance="10.1.0.5:10254"'
        )
        own = 'namespace="samokoder", service="samokoder-api"'
    else:
        target = _TARGET
        own = 'exported_namespace="samokoder", exported_service="samokoder-api"'
    return f'{target}, {_CONTROLLER_LABELS}, host="{host}", {own}, {_ROUTE}'


@dataclass(frozen=True)
class Side:
    """One side's traffic: requests per second, the share answered 500, where the latencies fall."""

    rps: float
    error_share: float = 0.0
    # (share of the requests, seconds each takes); the shares add up to 1.
    latencies: tuple[tuple[float, float], ...] = ((1.0, 0.05),)
    # Websocket sessions closing per second (101, beside the requests above).
    websocket_closes: float = 0.0

    def statuses(self) -> dict[str, float]:
        return {"200": self.rps * (1 - self.error_share), "500": self.rps * self.error_share}


@dataclass(frozen=True)
class Phase:
    minutes: int
    stable: Side
    canary: Side | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    phases: tuple[Phase, ...]
    # The request's namespace and service as the controller wrote them (a Prometheus with honorLabels).
    raw_labels: bool = False

    @property
    def minutes(self) -> int:
        return sum(phase.minutes for phase in self.phases)


def _observations(side: Side, status: str) -> tuple[float, tuple[tuple[float, float], ...]]:
    """Per second: how many requests of this status, and where their durations fall."""
    if status == "101":
        return side.websocket_closes, ((1.0, WEBSOCKET_SECONDS),)
    return side.statuses()[status], side.latencies


def _rates(side: Side, status: str) -> Iterator[tuple[str, str, float]]:
    """(metric suffix, extra labels, per-second increase) of one status's series."""
    rate, latencies = _observations(side, status)
    yield "", "", rate
    for le in (*BOUNDS, math.inf):
        spelt = "+Inf" if le == math.inf else f"{le:g}"
        within = sum(share for share, seconds in latencies if seconds <= le)
        yield "_bucket", f'le="{spelt}"', rate * within
    yield "_count", "", rate
    yield "_sum", "", rate * sum(share * seconds for share, seconds in latencies)


@dataclass
class _Series:
    metric: str
    labels: str
    value: float = 0.0
    samples: list[tuple[float, float]] = field(default_factory=list)


def _sampled(end: float, at: float) -> bool:
    minutes_before = round((end - at) / STEP_SECONDS)
    return minutes_before <= DENSE_MINUTES or minutes_before % SPARSE_MINUTES == 0


def _sides(phase: Phase) -> Iterator[tuple[str, Side]]:
    yield "stable", phase.stable
    if phase.canary is not None:
        yield "canary", phase.canary


def _increments(scenario: Scenario, end: float, host: str) -> Iterator[tuple[float, str, str, float]]:
    """Minute by minute: (when, metric, labels, how much each series grew during the minute)."""
    at = end - scenario.minutes * 60
    for phase in scenario.phases:
        for _ in range(phase.minutes):
            at += STEP_SECONDS
            for side_name, side in _sides(phase):
                base = edge_labels(host, raw=scenario.raw_labels)
                canary = f', canary="{CANARY_UPSTREAM}"' if side_name != "stable" else ""
                for status in ("200", "500", "101"):
                    labels = f'{base}{canary}, method="GET", status="{status}"'
                    for suffix, extra, rate in _rates(side, status):
                        metric = REQUESTS if suffix == "" else f"{DURATION}{suffix}"
                        yield at, metric, f"{labels}, {extra}" if extra else labels, rate * STEP_SECONDS


def openmetrics(scenarios: Sequence[tuple[Scenario, float]], host: str) -> str:
    """The scenarios' series as OpenMetrics text; each (scenario, end) has its last sample at ``end``."""
    series: dict[tuple[str, str, str], _Series] = {}
    # A series' samples go in time order; one series of two scenarios is two lives of the counter.
    for scenario, end in sorted(scenarios, key=lambda pair: pair[1]):
        for at, metric, labels, increase in _increments(scenario, end, host):
            known = series.get((scenario.name, metric, labels))
            if known is None:
                if increase == 0:
                    continue  # no such request yet: the controller has no series
                known = series[scenario.name, metric, labels] = _Series(metric, labels)
                # The first sample, a minute back: the counter as it was before.
                known.samples.append((at - STEP_SECONDS, 0.0))
            known.value += increase
            if _sampled(end, at):
                known.samples.append((at, known.value))
    lines = []
    for family, kind in ((REQUESTS, "counter"), (DURATION, "histogram")):
        lines.append(f"# TYPE {family} {kind}")
        lines += [
            # OpenMetrics allows no space between labels.
            f"{s.metric}{{{s.labels.replace(', ', ',')}}} {value:.12g} {t:.3f}"
            for s in series.values()
            if s.metric == family or s.metric.startswith(f"{family}_")
            for t, value in s.samples
        ]
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


# --- what Prometheus should answer over a window, from the same phases ----------------------------


def _overlaps(scenario: Scenario, end: float, window_seconds: float) -> Iterator[tuple[Phase, float]]:
    """Each phase with the seconds it spends inside the window ending at the scenario's end."""
    phase_end = end
    for phase in reversed(scenario.phases):
        phase_start = phase_end - phase.minutes * 60
        inside = min(phase_end, end) - max(phase_start, end - window_seconds)
        if inside > 0:
            yield phase, inside
        phase_end = phase_start


def _side_of(phase: Phase, side: str) -> Side | None:
    return {"stable": phase.stable, "canary": phase.canary}[side]


@dataclass(frozen=True)
class Expected:
    requests: float
    errors: float
    # Non-websocket requests by where their durations fall: (seconds, count).
    timed: tuple[tuple[float, float], ...]

    @property
    def error_percent(self) -> float:
        return 100 * self.errors / self.requests

    @property
    def p95(self) -> float:
        return histogram_quantile(0.95, self.timed)


def expected(scenario: Scenario, end: float, window_seconds: float, sides: Sequence[str]) -> Expected:
    requests = errors = 0.0
    timed: list[tuple[float, float]] = []
    for phase, seconds in _overlaps(scenario, end, window_seconds):
        for name in sides:
            side = _side_of(phase, name)
            if side is None:
                continue
            requests += (side.rps + side.websocket_closes) * seconds
            errors += side.rps * side.error_share * seconds
            timed += [(duration, side.rps * share * seconds) for share, duration in side.latencies]
    return Expected(requests, errors, tuple(timed))


def histogram_quantile(q: float, observations: Sequence[tuple[float, float]]) -> float:
    """Prometheus's estimate from DefBuckets: linear within the bucket the rank falls in."""
    total = sum(count for _, count in observations)
    rank = q * total
    lower, below = 0.0, 0.0
    for le in BOUNDS:
        within = sum(count for seconds, count in observations if seconds <= le)
        if within >= rank:
            return lower + (le - lower) * (rank - below) / (within - below)
        lower, below = le, within
    # In the +Inf bucket: the highest finite bound.
    return BOUNDS[-1]
