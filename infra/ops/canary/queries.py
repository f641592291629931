"""The PromQL the canary judge asks, from ingress-nginx's raw request series only.

Canary and stable share the API Ingress's location, so they share its
``ingress`` and ``service`` labels; only ``canary`` tells them apart: the
canary's upstream name on the canary's requests (the renderer's
``canary_upstream``, infra/render/workloads/canary.py), empty (no label) on
stable's (infra/ingress_contract.py: CANARY_SOURCES). Neither ``ingress``, ``host`` nor
``canary`` collides with a target label, so the same selectors read a
Prometheus that stored the request's namespace and service as ``exported_*``
(ours) and one that kept them as they are.

No recording rule and no ``ALERTS``: the paging burn-rate alerts are evaluated
from the raw series with the SLO renderer's own expressions, so a backfilled
or foreign Prometheus is judged as the stack's own would alert.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from infra.render.monitoring import contract as m
from infra.render.monitoring.promql import quantile, selector
from infra.render.monitoring.slo import BURN_WINDOWS, BurnWindow, api_slos
from infra.render.workloads.canary import canary_upstream
from infra.settings.monitoring import SloProfile

QUANTILE = 0.95
# The burn-rate windows that page (severity critical): a release is not promoted while one fires
# (the judge, and what infra/ops/canary/criteria.py tells a pull request).
PAGING_WINDOWS = tuple(w for w in BURN_WINDOWS if w.severity == "critical")

Side = Literal["canary", "stable"]
SIDES: tuple[Side, ...] = ("canary", "stable")


def _quoted(value: str) -> str:
    # PromQL's double-quoted strings take Go's escapes, which JSON's are a subset of.
    return json.dumps(value)


def api_matchers(domain: str) -> tuple[str, ...]:
    """The API Ingress's requests on the stack's host, canary's and stable's."""
    return (m.EDGE_API, f"host={_quoted(domain)}")


def side_matcher(side: Side) -> str:
    """The requests the canary answered, or those stable did (no "canary" label)."""
    return f"canary={_quoted(canary_upstream() if side == 'canary' else '')}"


def side_matchers(side: Side, domain: str) -> tuple[str, ...]:
    return (*api_matchers(domain), side_matcher(side))


@dataclass(frozen=True)
class SideQueries:
    # Requests in the window, websockets included (as the availability SLO counts them).
    requests: str
    # 5xx answers in the window.
    errors: str
    # The P95 of request_time in the window, websockets (observed when they close) left out.
    p95: str


def side_queries(side: Side, domain: str, window: str) -> SideQueries:
    matchers = side_matchers(side, domain)
    return SideQueries(
        requests=f"sum(increase({selector(m.EDGE_REQUESTS, *matchers)}[{window}]))",
        errors=f"sum(increase({selector(m.EDGE_REQUESTS, *matchers, m.EDGE_ERRORS)}[{window}]))",
        p95=quantile(QUANTILE, m.EDGE_DURATION, (*matchers, m.EDGE_NOT_WEBSOCKET), window),
    )


@dataclass(frozen=True)
class BurnQueries:
    """One paging alert's clause: an SLO's error ratio over a long and a short window against a bound."""

    slo: str
    # Fires when the error ratio passes window.factor x budget over both windows.
    window: BurnWindow
    budget: float
    long_bad: str
    long_total: str
    short_bad: str
    short_total: str


def burn_queries(profile: SloProfile) -> tuple[BurnQueries, ...]:
    """The paging burn-rate clauses of both SLOs, as the stack's alerts evaluate them, from raw series.

    Bad and total events are asked apart: a window without a single bad event
    has no bad series at all (an empty answer), which reads as a ratio of 0
    only beside a total that is there.
    """
    return tuple(
        BurnQueries(
            slo=slo.name,
            window=window,
            budget=slo.budget,
            long_bad=slo.bad(window.long),
            long_total=slo.total(window.long),
            short_bad=slo.bad(window.short),
            short_total=slo.total(window.short),
        )
        for slo in api_slos(profile)
        for window in PAGING_WINDOWS
    )
