"""The Four Golden Signals dashboard, from the real profiles."""

from __future__ import annotations

from typing import Any

from infra.render.monitoring import alerts as rec
from infra.render.monitoring.dashboards.golden_signals import UID, golden_signals
from infra.render.monitoring.dashboards.panels import to_json
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
    return to_json(golden_signals(stack_settings("prod", changes).thresholds, groups))


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
