"""Grafana dashboards: layout the operators expect, and every query answers in a real Prometheus."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import pytest

from tests.infra.render.monitoring.fixtures import INSTRUMENTED, VARIANTS, Written, dashboard_queries

Answers = dict[tuple[str, str, str], dict[str, Any]]


@pytest.mark.tool
@pytest.mark.parametrize("stack", VARIANTS)
def test_every_dashboard_query_returns_data(
    written: Callable[[str], Written], dashboard_answers: dict[str, Future[Answers]], stack: str
) -> None:
    queries = dashboard_queries(written(stack))
    assert len(queries) > 30
    # Asked of a real Prometheus holding three busy hours, from the start of the session (fixtures.py).
    answers = dashboard_answers[stack].result()
    assert set(answers) == queries
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


@pytest.mark.parametrize("stack", VARIANTS)
def test_dashboards_target_grafana_11_and_read_the_datasource_variable(
    written: Callable[[str], Written], stack: str
) -> None:
    dashboards = written(stack).artifacts.dashboards
    # The LLM dashboard waits for the app to set the LLM metrics (monitoring.instrumentation.llm).
    assert set(dashboards) == {
        "samokoder-golden-signals",
        "samokoder-slo",
        "samokoder-database",
        "samokoder-redis",
    } | ({"samokoder-llm"} if stack == INSTRUMENTED else set())
    for dashboard in dashboards.values():
        assert dashboard["schemaVersion"] == 41
        assert [v["name"] for v in dashboard["templating"]["list"]] == ["datasource"]
        for panel in dashboard["panels"]:
            if panel["type"] != "row":
                assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
