"""The judge's evidence read from Prometheus at one time, and the verdict on it.

What `samokoder-infra verify` prints and `canary run` acts on: each side's
requests, 5xx and P95 over the window (infra/ops/canary/queries.py), the
paging burn-rate windows at that time, judged by infra/ops/canary/judge.py.
"""

from __future__ import annotations

import math
from datetime import datetime

from infra.ops.canary.judge import Bounds, BurnReading, Traffic, Verdict, judge
from infra.ops.canary.prometheus import Prometheus
from infra.ops.canary.queries import SIDES, Side, burn_queries, side_queries
from infra.settings.monitoring import SloProfile
from infra.settings.stack import StackSettings


def evaluate(prometheus: Prometheus, settings: StackSettings, span: str, at: datetime) -> Verdict:
    """The verdict over ``span`` (a Prometheus duration) ending at ``at``; PrometheusError if unanswered."""
    domain = settings.identity.domain
    canary, stable = (traffic(prometheus, side, domain, span, at) for side in SIDES)
    return judge(canary, stable, burn_readings(prometheus, settings.slo, at), Bounds.of(settings))


def traffic(prometheus: Prometheus, side: Side, domain: str, span: str, at: datetime) -> Traffic:

    queries = side_queries(side, domain, span)
    return Traffic(
        requests=prometheus.query(queries.requests, at),
        errors=prometheus.query(queries.errors, at),
        p95_seconds=prometheus.query(queries.p95, at),
    )


def burn_readings(prometheus: Prometheus, profile: SloProfile, at: datetime) -> tuple[BurnReading, ...]:

    def ratio(bad: str, total: str) -> float | None:
        events = prometheus.query(total, at)
        if events is None or math.isnan(events) or events <= 0:
            return None
        # No bad series in the window: no bad event.
        return (prometheus.query(bad, at) or 0.0) / events

    return tuple(
        BurnReading(
            slo=clause.slo,
            long_window=clause.window.long,
            short_window=clause.window.short,
            factor=clause.window.factor,
            budget=clause.budget,
            long_ratio=ratio(clause.long_bad, clause.long_total),
            short_ratio=ratio(clause.short_bad, clause.short_total),
        )
        for clause in burn_queries(profile)
    )
