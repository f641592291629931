"""The LLM dashboard reads the series the dependency rules record."""

from __future__ import annotations

from infra.render.monitoring import alerts
from infra.render.monitoring.alerts import series
from infra.render.monitoring.dashboards import LLM_UID as UID
from infra.render.monitoring.dashboards import llm_dashboard
from infra.render.monitoring.dashboards.panels import to_json
from tests.infra.render.monitoring.support import assert_well_formed, content_panels, stack_settings


def test_every_panel_has_a_unique_title_a_prometheus_query_and_a_unit() -> None:
    dashboard = to_json(llm_dashboard())
    assert dashboard["uid"] == UID
    assert_well_formed(dashboard)
    assert len(content_panels(dashboard)) == 6


def test_every_recorded_series_it_reads_is_recorded_when_the_llm_group_is_on() -> None:
    settings = stack_settings("prod", instrumented=True)
    recorded = {r.record for f in alerts.platform_rules(settings) for r in f.recordings}
    read = {
        target["expr"]
        for panel in content_panels(to_json(llm_dashboard()))
        for target in panel["targets"]
        if target["expr"].startswith("samokoder:")
    }
    assert read == {series.LLM_ERROR_RATIO, series.LLM_LATENCY_P95, series.LLM_TOKENS_RATE}
    assert read <= recorded
