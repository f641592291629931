"""The database: CloudNativePG's instances, connections and replication, the backups, and (once the
app sets them) queries, errors and pool as the app sees them."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

from infra.render.monitoring import alerts as rec
from infra.render.monitoring import backups
from infra.render.monitoring import contract as m
from infra.render.monitoring.dashboards.panels import (
    falling,
    gauge_panel,
    graph,
    new_dashboard,
    rising,
    stat_panel,
)
from infra.render.monitoring.promql import selector
from infra.settings.stack import StackSettings

UID = "samokoder-database"
PER_POD = "by (pod)"
MAX_CONNECTIONS = 'name="max_connections"'
DAY = 86400


def database_dashboard(settings: StackSettings) -> db.Dashboard:
    t = settings.thresholds
    cluster = m.DATABASE
    warning_age, critical_age = backups.age_thresholds_seconds(settings.database)
    dashboard = (
        new_dashboard(
            UID,
            "Samokoder: Database",
            "PostgreSQL (CloudNativePG): instances, connections, transactions, replication and backups.",
        )
        .with_panel(
            stat_panel(
                "Instances running PostgreSQL",
                f"sum({selector(m.CNPG_UP, cluster)})",
                "short",
                falling(0.5, settings.database.instances - 0.5),
            )
        )
        .with_panel(
            stat_panel(
                "Last base backup",
                backups.BACKUP_AGE,
                "s",
                rising(warning_age, critical_age),
            )
        )
        .with_panel(
            stat_panel(
                "Recovery window",
                f"time() - max({selector(m.FIRST_RECOVERABILITY, cluster)})",
                "s",
                # Backups cover the retention: less than a day of it is a broken backup chain.
                falling(DAY, settings.database.backup_retention_days * DAY / 2),
            )
        )
        .with_panel(
            gauge_panel(
                "Connections of max_connections",
                f"sum({selector(m.BACKENDS, cluster)})"
                f" / max({selector(m.SETTING, cluster, MAX_CONNECTIONS)})",
                "percentunit",
                rising(0.8, 0.9),
            )
        )
        .with_row(db.Row("PostgreSQL"))
        .with_panel(
            graph(
                "Backends by state",
                [(f"sum by (state) ({selector(m.BACKENDS, cluster)})", "{{state}}")],
                "short",
            )
        )
        .with_panel(
            graph(
                "Transactions per second",
                [
                    (f"sum(rate({selector(m.XACT_COMMIT, cluster)}[5m]))", "commits"),
                    (f"sum(rate({selector(m.XACT_ROLLBACK, cluster)}[5m]))", "rollbacks"),
                    (f"sum(rate({selector(m.DEADLOCKS, cluster)}[5m]))", "deadlocks"),
                ],
                "ops",
            )
        )
        .with_panel(
            graph(
                "Replication lag by instance",
                [(f"max {PER_POD} ({selector(m.REPLICATION_LAG, cluster)})", "{{pod}}")],
                "s",
            )
        )
        .with_panel(
            graph(
                "Database size",
                [(f"max by (datname) ({selector(m.DATABASE_SIZE, cluster)})", "{{datname}}")],
                "bytes",
            )
        )
        .with_row(db.Row("Backups and WAL archiving"))
        .with_panel(
            graph(
                "WAL segments archived and failed per minute",
                [
                    (f"sum(rate({selector(m.WAL_ARCHIVED, cluster)}[5m])) * 60", "archived"),
                    (f"sum(rate({selector(m.WAL_ARCHIVE_FAILED, cluster)}[5m])) * 60", "failed"),
                ],
                "short",
            )
        )
        .with_panel(
            graph(
                "WAL segments waiting to be archived",
                [(f"max {PER_POD} ({selector(m.WAL_ARCHIVE_STATUS, cluster, backups.READY)})", "{{pod}}")],
                "short",
            )
        )
        .with_panel(
            graph(
                "Base backups: time since the last success and the last failure",
                [
                    (backups.BACKUP_AGE, "last success"),
                    (f"time() - max({selector(m.LAST_FAILED_BACKUP, cluster)})", "last failure"),
                ],
                "s",
                width=24,
            )
        )
    )
    if "database" not in settings.monitoring.instrumentation.enabled:
        return dashboard
    return (
        dashboard.with_row(db.Row("As the app sees it"))
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
