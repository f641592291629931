"""The database: CloudNativePG's instances, connections and replication, the backups, and (once the
app sets them) queries, errors and pool as the app sees them."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import gauge, stat, timeseries

from infra.render.monitoring import backups
from infra.render.monitoring import contract as m
from infra.render.monitoring.alerts import series as rec
from infra.render.monitoring.dashboards.panels import (
    falling,
    gauge_panel,
    graph,
    new_dashboard,
    rising,
    stat_panel,
    with_panels,
)
from infra.render.monitoring.promql import selector
from infra.settings.database import DatabaseProfile
from infra.settings.monitoring import Thresholds
from infra.settings.stack import StackSettings

UID = "samokoder-database"
PER_POD = "by (pod)"
MAX_CONNECTIONS = 'name="max_connections"'
DAY = 86400


def database_dashboard(settings: StackSettings) -> db.Dashboard:
    dashboard = new_dashboard(
        UID,
        "Samokoder: Database",
        "PostgreSQL (CloudNativePG): instances, connections, transactions, replication and backups.",
    )
    dashboard = with_panels(dashboard, headline_panels(settings.database))
    dashboard = with_panels(dashboard, postgres_panels(), row="PostgreSQL")
    dashboard = with_panels(dashboard, archive_panels(), row="Backups and WAL archiving")
    if "database" not in settings.monitoring.instrumentation.enabled:
        return dashboard
    return with_panels(dashboard, app_panels(settings.thresholds), row="As the app sees it")


def headline_panels(profile: DatabaseProfile) -> list[stat.Panel | gauge.Panel]:
    """Instances up, the last backup's age, the recovery window and connections in use."""
    warning_age, critical_age = backups.age_thresholds_seconds(profile)
    return [
        stat_panel(
            "Instances running PostgreSQL",
            f"sum({selector(m.CNPG_UP, m.DATABASE)})",
            "short",
            falling(0.5, profile.instances - 0.5),
        ),
        stat_panel("Last base backup", backups.BACKUP_AGE, "s", rising(warning_age, critical_age)),
        stat_panel(
            "Recovery window",
            f"time() - max({selector(m.FIRST_RECOVERABILITY, m.DATABASE)})",
            "s",
            # Backups cover the retention: less than a day of it is a broken backup chain.
            falling(DAY, profile.backup_retention_days * DAY / 2),
        ),
        gauge_panel(
            "Connections of max_connections",
            f"sum({selector(m.BACKENDS, m.DATABASE)})"
            f" / max({selector(m.SETTING, m.DATABASE, MAX_CONNECTIONS)})",
            "percentunit",
            rising(0.8, 0.9),
        ),
    ]


def postgres_panels() -> list[timeseries.Panel]:
    """PostgreSQL as CloudNativePG's exporter sees it: backends, transactions, replication, size."""
    return [
        graph(
            "Backends by state",
            [(f"sum by (state) ({selector(m.BACKENDS, m.DATABASE)})", "{{state}}")],
            "short",
        ),
        graph(
            "Transactions per second",
            [
                (f"sum(rate({selector(m.XACT_COMMIT, m.DATABASE)}[5m]))", "commits"),
                (f"sum(rate({selector(m.XACT_ROLLBACK, m.DATABASE)}[5m]))", "rollbacks"),
                (f"sum(rate({selector(m.DEADLOCKS, m.DATABASE)}[5m]))", "deadlocks"),
            ],
            "ops",
        ),
        graph(
            "Replication lag by instance",
            [(f"max {PER_POD} ({selector(m.REPLICATION_LAG, m.DATABASE)})", "{{pod}}")],
            "s",
        ),
        graph(
            "Database size",
            [(f"max by (datname) ({selector(m.DATABASE_SIZE, m.DATABASE)})", "{{datname}}")],
            "bytes",
        ),
    ]


def archive_panels() -> list[timeseries.Panel]:
    """The WAL archive's progress and backlog, and the base backups' last success and failure."""
    return [
        graph(
            "WAL segments archived and failed per minute",
            [
                (f"sum(rate({selector(m.WAL_ARCHIVED, m.DATABASE)}[5m])) * 60", "archived"),
                (f"sum(rate({selector(m.WAL_ARCHIVE_FAILED, m.DATABASE)}[5m])) * 60", "failed"),
            ],
            "short",
        ),
        graph(
            "WAL segments waiting to be archived",
            [(f"max {PER_POD} ({selector(m.WAL_ARCHIVE_STATUS, m.DATABASE, backups.READY)})", "{{pod}}")],
            "short",
        ),
        graph(
            "Base backups: time since the last success and the last failure",
            [
                (backups.BACKUP_AGE, "last success"),
                (f"time() - max({selector(m.LAST_FAILED_BACKUP, m.DATABASE)})", "last failure"),
            ],
            "s",
            width=24,
        ),
    ]


def app_panels(t: Thresholds) -> list[timeseries.Panel | gauge.Panel]:
    """Queries, errors and the pool from the app's own series (its "database" instrumentation)."""
    return [
        graph(
            "Queries per second by operation",
            [(f"sum by (operation) (rate({m.DB_DURATION}_count[5m]))", "{{operation}}")],
            "qps",
        ),
        graph("Query P95 by operation", [(rec.DB_QUERY_P95, "{{operation}}")], "s"),
        graph("Error ratio", [(rec.DB_ERROR_RATIO, "errors")], "percentunit"),
        graph(
            "Errors by type",
            [(f"sum by (error_type) (rate({m.DB_ERRORS}[5m]))", "{{error_type}}")],
            "ops",
        ),
        gauge_panel(
            "Pool in use",
            f"max({rec.POOL_RATIO})",
            "percentunit",
            rising(t.db_pool.warning / 100, t.db_pool.critical / 100),
        ),
        graph("Pool by state", [(f"sum by (state) ({m.DB_POOL})", "{{state}}")], "short", width=18),
    ]
