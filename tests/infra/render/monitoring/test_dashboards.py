"""Grafana dashboards: layout the operators expect, and every query answers in a real Prometheus."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import pytest

from infra.conventions import LOKI_DATASOURCE_UID
from infra.ingress_contract import TIME_BUCKETS_SECONDS
from infra.render.monitoring.dashboards.golden_signals import UID as GOLDEN_SIGNALS
from tests.infra.render.monitoring.fixtures import BUSY, INSTRUMENTED, VARIANTS, Written, dashboard_queries

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
            if panel["type"] == "logs":
                assert panel["datasource"] == {"type": "loki", "uid": LOKI_DATASOURCE_UID}, panel["title"]
            elif panel["type"] != "row":
                assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]


def _p95(slow_share: float, slow_bound: float, fast: float = 0.05) -> float:
    """histogram_quantile(0.95) over ingress-nginx's buckets of requests taking ``fast`` or ``slow_bound``."""
    bounds = (0.0, *TIME_BUCKETS_SECONDS)

    def below(le: float) -> float:
        return (1 - slow_share) * (fast <= le) + slow_share * (slow_bound <= le)

    upper = next(le for le in bounds[1:] if below(le) >= 0.95)
    lower = bounds[bounds.index(upper) - 1]
    return lower + (upper - lower) * (0.95 - below(lower)) / (below(upper) - below(lower))


@pytest.mark.tool
def test_the_canary_row_reads_stable_and_canary_apart_and_together_all_the_api_s_requests(
    written: Callable[[str], Written], dashboard_answers: dict[str, Future[Answers]]
) -> None:
    dashboard = written("prod").artifacts.dashboards[GOLDEN_SIGNALS]
    answers = dashboard_answers["prod"].result()

    def value(title: str, legend: str = "") -> float:
        (panel,) = (p for p in dashboard["panels"] if p["title"] == title and p["type"] != "row")
        (target,) = (t for t in panel["targets"] if legend in ("", t["legendFormat"]))
        (sample,) = answers[(GOLDEN_SIGNALS, title, target["expr"])]["data"]["result"]
        return float(sample["value"][1])

    # Three hours of BUSY (fixtures.py): the canary takes its share of users' requests and
    # websockets, with errors and slow requests of its own.
    load = BUSY
    every = load.rps + load.websocket_closes
    requests = {"stable": every * (1 - load.canary_share), "canary": every * load.canary_share}
    errors = {"stable": load.error_share, "canary": load.canary_error_share}
    slow = {"stable": load.slow_share, "canary": load.canary_slow_share}
    for side in ("stable", "canary"):
        assert value("Requests: stable and canary", side) == pytest.approx(requests[side], rel=1e-6)
        # Of every request, websocket sessions included, as the error SLI counts them.
        share = load.rps * errors[side] / every
        assert value("5xx share: stable and canary", side) == pytest.approx(share, rel=1e-6)
        p95 = value("P95 at the ingress: stable and canary (websockets aside)", side)
        assert p95 == pytest.approx(_p95(slow[side], load.slow_bound), rel=1e-6)
    # Disjoint and complete: the two sides add up to the API's traffic the rules record.
    both = value("Requests: stable and canary", "stable") + value("Requests: stable and canary", "canary")
    assert both == pytest.approx(value("Traffic"), rel=1e-6)
