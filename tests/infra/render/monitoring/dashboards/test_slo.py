"""The SLO dashboard: a budget gauge per SLO and the series the SLO rules record."""

from __future__ import annotations

from typing import Any

from infra.render.monitoring import slo
from infra.render.monitoring.dashboards import SLO_UID as UID
from infra.render.monitoring.dashboards import slo_dashboard
from infra.render.monitoring.dashboards.panels import to_json
from tests.infra.render.monitoring.support import assert_well_formed, exprs, panel, stack_settings, steps


def built(**changes: Any) -> dict[str, Any]:
    return to_json(slo_dashboard(stack_settings("prod", changes or None)))


def test_every_panel_has_a_unique_title_a_prometheus_query_and_a_unit() -> None:
    dashboard = built()
    assert dashboard["uid"] == UID
    assert_well_formed(dashboard)


def test_one_budget_gauge_per_slo_over_the_profiles_period_side_by_side() -> None:
    dashboard = built(**{"slo.window_days": 28, "thresholds.error_budget": {"warning": 30, "critical": 10}})
    gauges = [p for p in dashboard["panels"] if p["type"] == "gauge"]
    assert [g["title"] for g in gauges] == ["Availability: budget left (28d)", "Latency: budget left (28d)"]
    assert sum(g["gridPos"]["w"] for g in gauges) == 24
    assert steps(gauges[0]) == [(None, "red"), (0.3, "yellow"), (0.5, "green")]


def test_the_burn_rate_graph_divides_each_windows_ratio_by_the_budget() -> None:
    burn = exprs(panel(built(**{"slo.availability_percent": 99.5}), "Availability: burn rate"))
    assert burn == [f'{slo.ERROR_RATIO.format(window=w)}{{slo="availability"}} / 0.005' for w in slo.WINDOWS]


def test_every_series_it_reads_is_one_the_slo_rules_record() -> None:
    settings = stack_settings("prod")
    recorded = {r.record for f in slo.slo_rules(settings) for r in f.recordings}
    for graph in built()["panels"]:
        for expr in exprs(graph) if graph["type"] != "row" else []:
            names = {word.split("{")[0] for word in expr.split() if word.startswith("samokoder:")}
            assert names, expr
            assert names <= recorded, expr
