"""The database dashboard: instances, backups and (once the app sets them) its own queries and pool."""

from __future__ import annotations

from typing import Any

from infra.render.monitoring import backups
from infra.render.monitoring.alerts import series as rec
from infra.render.monitoring.dashboards import database_dashboard
from infra.render.monitoring.dashboards.panels import to_json
from tests.infra.render.monitoring.support import (
    assert_well_formed,
    content_panels,
    exprs,
    panel,
    stack_settings,
    steps,
)

APP_PANELS = {
    "Queries per second by operation",
    "Query P95 by operation",
    "Error ratio",
    "Errors by type",
    "Pool in use",
    "Pool by state",
}


def built(
    stack: str = "prod", instrumented: bool = False, changes: dict[str, Any] | None = None
) -> dict[str, Any]:
    return to_json(database_dashboard(stack_settings(stack, changes, instrumented=instrumented)))


def test_every_panel_has_a_unique_title_a_prometheus_query_and_a_unit() -> None:
    for stack in ("staging", "prod"):
        assert_well_formed(built(stack))
    assert_well_formed(built(instrumented=True))


def test_the_instances_stat_turns_red_below_one_and_yellow_below_the_profiles_count() -> None:
    assert steps(panel(built("prod"), "Instances running PostgreSQL")) == [
        (None, "red"),
        (0.5, "yellow"),
        (2.5, "green"),
    ]
    assert steps(panel(built("staging"), "Instances running PostgreSQL"))[2] == (0.5, "green")


def test_the_backup_age_colours_at_the_alerts_levels() -> None:
    warning, critical = backups.age_thresholds_seconds(stack_settings("prod").database)
    age = panel(built(), "Last base backup")
    assert exprs(age) == [backups.BACKUP_AGE]
    assert steps(age) == [(None, "green"), (warning, "yellow"), (critical, "red")]


def test_the_apps_own_panels_wait_for_the_database_instrumentation() -> None:
    plain = {p["title"] for p in content_panels(built())}
    full = built(instrumented=True, changes={"thresholds.db_pool": {"warning": 50, "critical": 65}})
    assert plain.isdisjoint(APP_PANELS)
    assert {p["title"] for p in content_panels(full)} >= APP_PANELS
    pool = panel(full, "Pool in use")
    assert exprs(pool) == [f"max({rec.POOL_RATIO})"]
    assert steps(pool) == [(None, "green"), (0.5, "yellow"), (0.65, "red")]


def test_after_a_cut_over_every_panel_reads_the_restored_cluster() -> None:
    restored = "samokoder-db-restore-20261126-0630"
    cut = to_json(database_dashboard(stack_settings("prod", cut_over_to=restored)))
    reads = [e for p in content_panels(cut) for e in exprs(p) if "cluster=" in e]
    assert len(reads) > 5
    assert all(f'cluster="{restored}"' in e for e in reads), reads
    assert not any('cluster="samokoder-db"' in e for p in content_panels(cut) for e in exprs(p))
