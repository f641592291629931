"""Database as the app sees it: query latency, errors, pool."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

from infra.render.monitoring import alerts as rec
from infra.render.monitoring import contract as m
from infra.render.monitoring.dashboards.panels import gauge_panel, graph, new_dashboard, rising
from infra.settings.monitoring import Thresholds

UID = "samokoder-database"


def database_dashboard(t: Thresholds) -> db.Dashboard:
    return (
        new_dashboard(
            UID, "Samokoder: Database", "PostgreSQL from the app's side: queries, errors, connection pool."
        )
        .with_panel(
            graph(
                "Queries per second by operation",
                [(f"sum by (operation) (rate({m.DB_DURATION}_count[5m]))", "{{operation}}")],
                "qps",
            )
        )
        .with_panel(graph("Query P95 by operation", [(rec.DB_QUERY_P95, "{{operation}}")], "s"))
        .with_panel(graph("Error ratio", [(rec.DB_ERROR_RATIO, "errors")], "percentunit"))
        .with_panel(
            graph(
                "Errors by type",
                [(f"sum by (error_type) (rate({m.DB_ERRORS}[5m]))", "{{error_type}}")],
                "ops",
            )
        )
        .with_panel(
            gauge_panel(
                "Pool in use",
                f"max({rec.POOL_RATIO})",
                "percentunit",
                rising(t.db_pool.warning / 100, t.db_pool.critical / 100),
            )
        )
        .with_panel(
            graph("Pool by state", [(f"sum by (state) ({m.DB_POOL})", "{{state}}")], "short", width=18)
        )
    )
