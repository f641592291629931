"""Panel building blocks: Prometheus queries through the variable, colour steps, lettered targets."""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.builders import dashboard as db

from infra.render.monitoring.dashboards import panels
from tests.infra.render.monitoring.support import steps

PROMETHEUS = {"type": "prometheus", "uid": "${datasource}"}


def as_json(*built: Any) -> list[dict[str, Any]]:
    """The panels of a dashboard holding `built`, as Grafana stores them."""
    dashboard = panels.new_dashboard("u", "T", "d")
    for panel in built:
        dashboard = dashboard.with_panel(panel)
    found: list[dict[str, Any]] = panels.to_json(dashboard)["panels"]
    return found


def test_a_dashboard_reads_prometheus_through_its_datasource_variable() -> None:
    data = panels.to_json(panels.new_dashboard("uid-1", "Title", "What it shows"))
    assert (data["uid"], data["title"], data["description"]) == ("uid-1", "Title", "What it shows")
    assert data["tags"] == ["samokoder"]
    (variable,) = data["templating"]["list"]
    assert variable["name"] == variable["type"] == "datasource"
    assert variable["query"] == "prometheus"


def test_a_graphs_targets_are_lettered_in_order_with_their_legends() -> None:
    graph = panels.graph("G", [("a", "first"), ("b", "")], "s")
    (panel,) = as_json(graph)
    assert panel["datasource"] == PROMETHEUS
    assert [(t["refId"], t["expr"], t["legendFormat"]) for t in panel["targets"]] == [
        ("A", "a", "first"),
        ("B", "b", "__auto"),
    ]
    assert all(t["datasource"] == PROMETHEUS for t in panel["targets"])
    assert panel["fieldConfig"]["defaults"]["unit"] == "s"


def test_rising_colours_more_as_worse_and_falling_less_as_worse() -> None:
    rising = panels.stat_panel("R", "x", "short", panels.rising(1, 2))
    falling = panels.gauge_panel("F", "y", "percentunit", panels.falling(0.1, 0.5))
    stat, gauge = as_json(rising, falling)
    assert steps(stat) == [(None, "green"), (1, "yellow"), (2, "red")]
    assert steps(gauge) == [(None, "red"), (0.1, "yellow"), (0.5, "green")]
    assert (gauge["fieldConfig"]["defaults"]["min"], gauge["fieldConfig"]["defaults"]["max"]) == (0, 1)


def test_to_json_returns_plain_json_types() -> None:
    data = panels.to_json(panels.new_dashboard("u", "T", "d").with_row(db.Row("r")))
    assert data == json.loads(json.dumps(data))
    assert [p["type"] for p in data["panels"]] == ["row"]
