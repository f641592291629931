"""Grafana dashboards as code, keyed by uid."""

from __future__ import annotations

from typing import Any

from infra.render.monitoring.dashboards.database import database_dashboard
from infra.render.monitoring.dashboards.golden_signals import golden_signals
from infra.render.monitoring.dashboards.llm import llm_dashboard
from infra.render.monitoring.dashboards.panels import to_json
from infra.render.monitoring.dashboards.redis import redis_dashboard
from infra.render.monitoring.dashboards.slo import slo_dashboard
from infra.settings.stack import StackSettings


def dashboards(settings: StackSettings) -> dict[str, dict[str, Any]]:
    groups = settings.monitoring.instrumentation.enabled
    built = (
        golden_signals(settings.thresholds, groups),
        slo_dashboard(settings),
        database_dashboard(settings),
        redis_dashboard(settings.thresholds),
        # The app sets none of the LLM metrics yet: the dashboard waits for the group.
        *((llm_dashboard(),) if "llm" in groups else ()),
    )
    return {dashboard["uid"]: dashboard for dashboard in map(to_json, built)}
