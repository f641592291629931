"""The Four Golden Signals dashboard, from the real profiles."""

from __future__ import annotations

from typing import Any

import promql_parser as pp

from infra import ingress_contract as edge
from infra.conventions import DATABASE_CLUSTER
from infra.render.monitoring.alerts import series as rec
from infra.render.monitoring.dashboards.golden_signals import UID, golden_signals
from infra.render.monitoring.dashboards.panels import to_json
from infra.render.workloads.routes import API as API_INGRESS
from infra.settings.monitoring import INSTRUMENTATION_GROUPS, InstrumentationGroup
from tests.infra.render.monitoring.support import (
    assert_well_formed,
    content_panels,
    exprs,
    panel,
    stack_settings,
    steps,
)


def built(
    groups: frozenset[InstrumentationGroup] = frozenset(), changes: dict[str, Any] | None = None
) -> dict[str, Any]:
    return to_json(golden_signals(stack_settings("prod", changes).thresholds, groups, DATABASE_CLUSTER))


def test_every_panel_has_a_unique_title_a_prometheus_query_and_a_unit() -> None:
    for groups in (frozenset(), frozenset(INSTRUMENTATION_GROUPS)):
        dashboard = built(groups)
        assert dashboard["uid"] == UID
        assert_well_formed(dashboard)


def test_the_saturation_gauges_colour_at_the_profiles_levels() -> None:
    dashboard = built(changes={"thresholds.memory": {"warning": 60, "critical": 75}})
    assert steps(panel(dashboard, "Memory")) == [(None, "green"), (0.6, "yellow"), (0.75, "red")]
    disk = stack_settings("prod").thresholds.disk
    expected = [(disk.warning / 100, "yellow"), (disk.critical / 100, "red")]
    assert steps(panel(dashboard, "Disk"))[1:] == expected


def test_llm_and_connection_panels_appear_only_with_their_instrumentation() -> None:
    plain = {p["title"] for p in content_panels(built())}
    full = {p["title"] for p in content_panels(built(frozenset(INSTRUMENTATION_GROUPS)))}
    llm = {"LLM P95 by provider", "LLM error ratio by provider"}
    assert plain.isdisjoint(llm)
    assert llm <= full
    assert ("Requests in progress" in plain, "Active connections" in plain) == (True, False)
    assert ("Requests in progress" in full, "Active connections" in full) == (False, True)


def test_the_top_row_reads_the_series_the_rules_record() -> None:
    dashboard = built()
    assert exprs(panel(dashboard, "Traffic")) == [rec.EDGE_RATE]
    assert exprs(panel(dashboard, "Latency P95")) == [rec.HTTP_LATENCY[95]]
    assert exprs(panel(dashboard, "Errors (5xx)")) == [rec.HTTP_ERROR_RATIO]
    assert exprs(panel(dashboard, "Saturation (CPU)")) == [f"max({rec.CPU_RATIO})"]


# --- the canary beside stable, and the release annotations ---------------------------

CANARY_PANELS = (
    "Requests: stable and canary",
    "5xx share: stable and canary",
    "P95 at the ingress: stable and canary (websockets aside)",
)


def _selectors(expr: str) -> list[tuple[str | None, dict[str, tuple[pp.MatchOp, str]]]]:
    """(series name, {label: (op, value)}) of every vector selector, as Prometheus's grammar parses it."""
    found: list[tuple[str | None, dict[str, tuple[pp.MatchOp, str]]]] = []

    def visit(node: pp.Expr) -> None:
        if isinstance(node, pp.VectorSelector):
            found.append((node.name, {m.name: (m.op, m.value) for m in node.matchers.matchers}))

    pp.walk(pp.parse(expr), visit)
    return found


def test_the_canary_row_has_a_stable_and_a_canary_query_per_signal_after_everything_else() -> None:
    for groups in (frozenset(), frozenset(INSTRUMENTATION_GROUPS)):
        dashboard = built(groups)
        rows = [p for p in dashboard["panels"] if p["type"] == "row"]
        assert rows[-1]["title"] == "Canary beside stable"
        assert [p["title"] for p in dashboard["panels"][-3:]] == list(CANARY_PANELS)
    for title in CANARY_PANELS:
        assert [t["legendFormat"] for t in panel(built(), title)["targets"]] == ["stable", "canary"]


def test_stable_and_canary_select_disjoint_series_of_the_api_ingress() -> None:
    # Stable's requests carry no canary label (canary=""), the canary's its upstream's name: no
    # series can match both, and together they are every request of the API's Ingress.
    expected = {"stable": (pp.MatchOp.Equal, ""), "canary": (pp.MatchOp.NotEqual, "")}
    for title in CANARY_PANELS:
        for target in panel(built(), title)["targets"]:
            selectors = _selectors(target["expr"])
            assert selectors, title
            for name, matchers in selectors:
                assert name in (edge.REQUESTS, f"{edge.REQUEST_DURATION}_bucket"), (title, name)
                assert matchers["ingress"] == (pp.MatchOp.Equal, API_INGRESS), (title, target["expr"])
                assert matchers["canary"] == expected[target["legendFormat"]], (title, target["expr"])


def test_the_canary_latency_leaves_websockets_out_and_reads_the_edge_histogram() -> None:
    for target in panel(built(), CANARY_PANELS[2])["targets"]:
        ((name, matchers),) = _selectors(target["expr"])
        assert name == f"{edge.REQUEST_DURATION}_bucket"
        assert matchers["status"] == (pp.MatchOp.NotEqual, edge.WEBSOCKET_STATUS)
        assert target["expr"].startswith("histogram_quantile(0.95, sum by (le) (")


def test_the_dashboard_marks_each_release_by_flaggers_weight_of_its_canary() -> None:
    (query,) = built()["annotations"]["list"]
    assert query["name"] == "Releases"
    assert query["enable"] is True
    # Prometheus's, where the canary's weight is above 0 (Flagger's series, as our Prometheus stores it).
    assert query["datasource"]["type"] == "prometheus"
    ((name, matchers),) = _selectors(query["expr"])
    assert name == "flagger_canary_weight"
    assert matchers["workload"] == (pp.MatchOp.Equal, "samokoder-api")
    assert matchers["exported_namespace"] == (pp.MatchOp.Equal, "samokoder")
    assert query["expr"].endswith("> 0")
    assert query.get("builtIn") != 1
