"""The Redis and worker-queue dashboard, from the real profiles."""

from __future__ import annotations

from typing import Any

from infra.render.monitoring.alerts import series as rec
from infra.render.monitoring.contract import QUEUE
from infra.render.monitoring.dashboards import REDIS_UID as UID
from infra.render.monitoring.dashboards import redis_dashboard
from infra.render.monitoring.dashboards.panels import to_json
from tests.infra.render.monitoring.support import assert_well_formed, exprs, panel, stack_settings, steps


def built(**changes: Any) -> dict[str, Any]:
    return to_json(redis_dashboard(stack_settings("prod", changes or None).thresholds))


def test_every_panel_has_a_unique_title_a_prometheus_query_and_a_unit() -> None:
    dashboard = built()
    assert dashboard["uid"] == UID
    assert_well_formed(dashboard)


def test_the_queue_gauge_divides_by_the_profiles_capacity_and_colours_at_its_levels() -> None:
    dashboard = built(**{"thresholds.queue_depth": {"warning": 50, "critical": 60, "capacity": 250}})
    gauge = panel(dashboard, "Queue of its 250 jobs")
    (expr,) = exprs(gauge)
    assert expr.endswith(") / 250")
    assert QUEUE in expr
    assert steps(gauge) == [(None, "green"), (0.5, "yellow"), (0.6, "red")]


def test_the_memory_gauge_reads_the_recorded_ratio_at_the_alerts_levels() -> None:
    memory = stack_settings("prod").thresholds.redis_memory
    gauge = panel(built(), "Memory of maxmemory")
    assert exprs(gauge) == [f"max({rec.REDIS_MEMORY_RATIO})"]
    assert steps(gauge)[1:] == [(memory.warning / 100, "yellow"), (memory.critical / 100, "red")]
