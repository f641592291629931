"""Grafana dashboards: layout the operators expect, and every query answers in a real Prometheus."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import STACKS
from tests.infra.render.monitoring.conftest import Written
from tests.infra.render.monitoring.prometheus_harness import running_prometheus
from tests.infra.render.monitoring.scenarios import HEALTHY
from tests.infra.render.monitoring.workload import Phase

# Some of everything, so that every panel has something to show.
BUSY = HEALTHY.but(error_share=0.02, slow_share=0.1, llm_error_share=0.05)


def targets(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield panel["title"], target["expr"]


@pytest.mark.tool
@pytest.mark.parametrize("stack", STACKS)
def test_every_dashboard_query_returns_data(
    written: Callable[[str], Written], stack: str, tmp_path: Path
) -> None:
    w = written(stack)
    queries = {(uid, title, expr) for uid, d in w.artifacts.dashboards.items() for title, expr in targets(d)}
    assert len(queries) > 30
    with running_prometheus(w.rule_paths, [Phase(180, BUSY)], tmp_path) as prometheus:
        answers = {(uid, title, expr): prometheus.query(expr) for uid, title, expr in sorted(queries)}
    failed = {key: answer.get("error") for key, answer in answers.items() if answer["status"] != "success"}
    assert not failed, "queries Prometheus rejects"
    empty = [key for key, answer in answers.items() if not answer["data"]["result"]]
    assert not empty, "queries with no data"


def test_golden_signals_top_row_uses_the_profile_thresholds(written: Callable[[str], Written]) -> None:
    w = written("prod")
    t = w.settings.thresholds
    dashboard = w.artifacts.dashboards["samokoder-golden-signals"]
    top = sorted((p for p in dashboard["panels"] if p["gridPos"]["y"] == 0), key=lambda p: p["gridPos"]["x"])
    assert [p["title"] for p in top] == ["Traffic", "Latency P95", "Errors (5xx)", "Saturation (CPU)"]

    def levels(panel: dict[str, Any]) -> list[tuple[float | None, str]]:
        return [(s["value"], s["color"]) for s in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]]

    assert levels(top[0]) == [(None, "green"), (100, "yellow"), (500, "red")]
    assert levels(top[1]) == [
        (None, "green"),
        (t.latency_p95_seconds.warning, "yellow"),
        (t.latency_p95_seconds.critical, "red"),
    ]
    assert levels(top[2]) == [
        (None, "green"),
        (t.error_rate.warning / 100, "yellow"),
        (t.error_rate.critical / 100, "red"),
    ]
    assert levels(top[3]) == [(None, "green"), (t.cpu.warning / 100, "yellow"), (t.cpu.critical / 100, "red")]


@pytest.mark.parametrize("stack", STACKS)
def test_dashboards_target_grafana_11_and_read_the_datasource_variable(
    written: Callable[[str], Written], stack: str
) -> None:
    dashboards = written(stack).artifacts.dashboards
    assert set(dashboards) == {
        "samokoder-golden-signals",
        "samokoder-slo",
        "samokoder-database",
        "samokoder-llm",
    }
    for dashboard in dashboards.values():
        assert dashboard["schemaVersion"] == 41
        assert [v["name"] for v in dashboard["templating"]["list"]] == ["datasource"]
        for panel in dashboard["panels"]:
            if panel["type"] != "row":
                assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
