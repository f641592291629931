"""SLOs of the API, measured at the edge and computed in Prometheus.

The SLIs are ingress-nginx's own request metrics for the API's Ingress: they
count what users get, a crashed handler's 500 included (the app's counter
misses it), and never see kubelet probes or Prometheus scrapes, which reach
the pods directly. Websocket sessions (status 101, observed when they close)
are not latencies and are left out of the latency SLI. The blackbox probe is
the second, synthetic signal (``EndpointProbeFailing``); the app's histogram
stays for per-endpoint detail on the dashboards.

Each SLO records its error ratio (bad events / all events) over the windows
the multi-window, multi-burn-rate alerts of the Google SRE workbook need
(as Sloth and Pyrra generate them), over the whole SLO period, and the error
budget left. The app computes nothing itself.

Burn rate 1 spends exactly the budget over the period; the alerts' windows and
burn rates are ``BURN_WINDOWS`` (docs/monitoring.md renders them as a table).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from infra.render.monitoring import contract as m
from infra.render.monitoring.promql import ratio, selector, sum_rate
from infra.render.monitoring.rules import Alert, Recording, RuleFile, RuleGroup, Severity
from infra.settings.monitoring import SloProfile
from infra.settings.stack import StackSettings

WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
ERROR_RATIO = "samokoder:slo_errors:ratio_rate{window}"
OBJECTIVE = "samokoder:slo_objective:ratio"
BUDGET_REMAINING = "samokoder:slo_error_budget:ratio_remaining"


@dataclass(frozen=True)
class BurnWindow:
    long: str
    short: str
    factor: float
    severity: Severity


BURN_WINDOWS = (
    BurnWindow("1h", "5m", 14.4, "critical"),  # 2 % of the budget spent in 1 h
    BurnWindow("6h", "30m", 6, "critical"),  # 5 % in 6 h
    BurnWindow("1d", "2h", 3, "warning"),  # 10 % in 1 d
    BurnWindow("3d", "6h", 1, "warning"),  # 10 % in 3 d
)


@dataclass(frozen=True)
class Slo:
    name: str
    title: str
    # The share of good events the SLO promises, e.g. 0.999.
    objective: float
    what: str
    bad: Callable[[str], str]
    total: Callable[[str], str]
    # The raw series whose absence blinds the SLO.
    source: str
    # The matchers of the requests it counts (the latency SLO's: timed ones, websockets left out).
    matchers: tuple[str, ...] = ()

    @property
    def budget(self) -> float:
        # Rounded so that 1 - 0.999 reads 0.001 in the rules, not 0.00099999.
        return round(1 - self.objective, 12)

    @property
    def labels(self) -> dict[str, str]:
        return {"service": "api", "slo": self.name}

    def series(self, window: str) -> str:
        return f'{ERROR_RATIO.format(window=window)}{{slo="{self.name}"}}'

    def error_ratio(self, window: str) -> Recording:
        return Recording(
            ERROR_RATIO.format(window=window), ratio(self.bad(window), self.total(window)), self.labels
        )


def api_slos(profile: SloProfile, only: Sequence[str] = ()) -> tuple[Slo, ...]:
    """The API's SLOs; ``only``: matchers that narrow them to a part of its requests (a canary's)."""
    requests = selector(m.EDGE_REQUESTS, m.EDGE_API, *only)
    failed = selector(m.EDGE_REQUESTS, m.EDGE_API, m.EDGE_ERRORS, *only)
    timed = (m.EDGE_API, m.EDGE_NOT_WEBSOCKET, *only)
    count = selector(f"{m.EDGE_DURATION}_count", *timed)
    fast = selector(f"{m.EDGE_DURATION}_bucket", *timed, m.le_matcher(profile.latency_threshold_seconds))
    threshold = f"{profile.latency_threshold_seconds:g} s"
    return (
        Slo(
            name="availability",
            title="Availability",
            objective=profile.availability_percent / 100,
            what="API requests answered without a 5xx",
            bad=lambda w: sum_rate(failed, w),
            total=lambda w: sum_rate(requests, w),
            source=requests,
            matchers=(m.EDGE_API, *only),
        ),
        Slo(
            name="latency",
            title="Latency",
            objective=profile.latency_percent / 100,
            what=f"API requests answered within {threshold}",
            bad=lambda w: f"({sum_rate(count, w)} - {sum_rate(fast, w)})",
            total=lambda w: sum_rate(count, w),
            source=count,
            matchers=timed,
        ),
    )


def _burn_alert(slo: Slo, page: bool, period: str) -> Alert:
    windows = tuple(w for w in BURN_WINDOWS if (w.severity == "critical") == page)
    clauses = [
        f"(\n  {slo.series(w.long)} > {w.factor * slo.budget:g}\n"
        f"and\n  {slo.series(w.short)} > {w.factor * slo.budget:g}\n)"
        for w in windows
    ]
    spend = ", ".join(f"{w.factor:g}x over {w.long} and {w.short}" for w in windows)
    return Alert(
        f"Api{slo.title}BudgetBurn",
        "\nor\n".join(clauses),
        "critical" if page else "warning",
        f"{slo.title} SLO error budget is burning {'fast' if page else 'steadily'}",
        f"{slo.what}: the objective is {slo.objective:.2%} over {period}; "
        f"errors spend the error budget at more than {spend}.",
        # A page waits for two evaluations of the short window; a ticket is in no hurry.
        for_="2m" if page else "15m",
        labels={**slo.labels, "signal": "slo"},
    )


def _budget_alert(slo: Slo, severity: Severity, level: float, period: str) -> Alert:
    return Alert(
        f"Api{slo.title}BudgetLow",
        f'{BUDGET_REMAINING}{{slo="{slo.name}"}} < {level / 100:g}',
        severity,
        f"{slo.title} SLO error budget is running out",
        f"{{{{ $value | humanizePercentage }}}} of the {period} error budget of {slo.what} "
        f"is left (threshold {level:g} %).",
        for_="15m",
        labels={**slo.labels, "signal": "slo"},
    )


def slo_rule_file(slo: Slo, settings: StackSettings) -> RuleFile:
    period = f"{settings.slo.window_days}d"
    budget = settings.thresholds.error_budget
    fast = RuleGroup(
        f"samokoder-slo-{slo.name}",
        (
            *(slo.error_ratio(w) for w in WINDOWS),
            _burn_alert(slo, page=True, period=period),
            _burn_alert(slo, page=False, period=period),
            # Blind while users reach the API: the app counts /v1 requests (only the Ingress routes
            # them there) but the ingress reports none. A quiet night, with no series yet since the
            # controller started, is not blindness.
            Alert(
                f"Api{slo.title}SliAbsent",
                f"absent({slo.source})\nand on() {sum_rate(m.APP_USER_REQUESTS, '10m')} > 0",
                "warning",
                f"{slo.title} SLI has no data",
                f"The API serves users but Prometheus has no {slo.source} series: the {slo.name} SLO "
                "and its alerts are blind.",
                for_="10m",
                labels={**slo.labels, "signal": "slo"},
            ),
        ),
    )
    # The period's ratio reads 30 days of samples: evaluated less often.
    whole_period = RuleGroup(
        f"samokoder-slo-{slo.name}-period",
        (
            slo.error_ratio(period),
            Recording(OBJECTIVE, f"vector({slo.objective:g})", slo.labels),
            Recording(BUDGET_REMAINING, f"1 - {slo.series(period)} / {slo.budget:g}", slo.labels),
            _budget_alert(slo, "warning", budget.warning, period),
            _budget_alert(slo, "critical", budget.critical, period),
        ),
        interval="5m",
    )
    return RuleFile(f"slo-{slo.name}", (fast, whole_period))


def slo_rules(settings: StackSettings) -> tuple[RuleFile, ...]:
    return tuple(slo_rule_file(slo, settings) for slo in api_slos(settings.slo))
