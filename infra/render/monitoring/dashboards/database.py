"""The database: CloudNativePG's instances, connections and replication, the backups, and (once the
app sets them) queries, errors and pool as the app sees them."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

from infra.render.monitoring import backups
from infra.render.monitoring import contract as m
from infra.render.monitoring.alerts import series as rec
from infra.render.monitoring.dashboards.panels import (
    Panel,
    alert_levels,
    falling,
    gauge_panel,
    graph,
    new_dashboard,
    rate_by,
    rising,
    stat_panel,
)
from infra.render.monitoring.promql import selector
from infra.settings.database import DatabaseProfile
from infra.settings.monitoring import Thresholds
from infra.settings.stack import StackSettings

UID = "samokoder-database"
PER_POD = "by (pod)"
MAX_CONNECTIONS = 'name="max_connections"'
DAY = 86400


def cluster(metric: str, *matchers: str) -> str:
    """``metric`` of the stack's database cluster."""
    return selector(metric, m.DATABASE, *matchers)


def database_dashboard(settings: StackSettings) -> db.Dashboard:
    rows: dict[str, list[Panel]] = {
        "": headline_panels(settings.database),
        "PostgreSQL": postgres_panels(),
        "Backups and WAL archiving": archive_panels(),
    }
    if "database" in settings.monitoring.instrumentation.enabled:
        rows["As the app sees it"] = app_panels(settings.thresholds)
    description = "PostgreSQL (CloudNativePG): instances, connections, transactions, replication and backups."
    return new_dashboard(UID, "Samokoder: Database", description, rows)


def headline_panels(profile: DatabaseProfile) -> list[Panel]:
    """Instances up, the last backup's age, the recovery window and connections in use."""
    connections = f"sum({cluster(m.BACKENDS)}) / max({cluster(m.SETTING, MAX_CONNECTIONS)})"
    return [
        stat_panel(
            "Instances running PostgreSQL",
            f"sum({cluster(m.CNPG_UP)})",
            "short",
            falling(0.5, profile.instances - 0.5),
        ),
        stat_panel(
            "Last base backup", backups.BACKUP_AGE, "s", rising(*backups.age_thresholds_seconds(profile))
        ),
        stat_panel(
            "Recovery window",
            f"time() - max({cluster(m.FIRST_RECOVERABILITY)})",
            "s",
            # Backups cover the retention: less than a day of it is a broken backup chain.
            falling(DAY, profile.backup_retention_days * DAY / 2),
        ),
        gauge_panel("Connections of max_connections", connections, "percentunit", rising(0.8, 0.9)),
    ]


def postgres_panels() -> list[Panel]:
    """PostgreSQL as CloudNativePG's exporter sees it: backends, transactions, replication, size."""
    transactions = [(m.XACT_COMMIT, "commits"), (m.XACT_ROLLBACK, "rollbacks"), (m.DEADLOCKS, "deadlocks")]
    return [
        graph("Backends by state", [(f"sum by (state) ({cluster(m.BACKENDS)})", "{{state}}")], "short"),
        graph(
            "Transactions per second",
            [(f"sum(rate({cluster(metric)}[5m]))", legend) for metric, legend in transactions],
            "ops",
        ),
        graph(
            "Replication lag by instance", [(f"max {PER_POD} ({cluster(m.REPLICATION_LAG)})", "{{pod}}")], "s"
        ),
        graph("Database size", [(f"max by (datname) ({cluster(m.DATABASE_SIZE)})", "{{datname}}")], "bytes"),
    ]


def archive_panels() -> list[Panel]:
    """The WAL archive's progress and backlog, and the base backups' last success and failure."""
    waiting = f"max {PER_POD} ({cluster(m.WAL_ARCHIVE_STATUS, backups.READY)})"
    return [
        graph(
            "WAL segments archived and failed per minute",
            [
                (f"sum(rate({cluster(m.WAL_ARCHIVED)}[5m])) * 60", "archived"),
                (f"sum(rate({cluster(m.WAL_ARCHIVE_FAILED)}[5m])) * 60", "failed"),
            ],
            "short",
        ),
        graph("WAL segments waiting to be archived", [(waiting, "{{pod}}")], "short"),
        graph(
            "Base backups: time since the last success and the last failure",
            [
                (backups.BACKUP_AGE, "last success"),
                (f"time() - max({cluster(m.LAST_FAILED_BACKUP)})", "last failure"),
            ],
            "s",
            width=24,
        ),
    ]


def app_panels(t: Thresholds) -> list[Panel]:
    """Queries, errors and the pool from the app's own series (its "database" instrumentation)."""
    return [
        graph("Queries per second by operation", [rate_by(f"{m.DB_DURATION}_count", "operation")], "qps"),
        graph("Query P95 by operation", [(rec.DB_QUERY_P95, "{{operation}}")], "s"),
        graph("Error ratio", [(rec.DB_ERROR_RATIO, "errors")], "percentunit"),
        graph("Errors by type", [rate_by(m.DB_ERRORS, "error_type")], "ops"),
        gauge_panel("Pool in use", f"max({rec.POOL_RATIO})", "percentunit", alert_levels(t.db_pool)),
        graph("Pool by state", [(f"sum by (state) ({m.DB_POOL})", "{{state}}")], "short", width=18),
    ]
