"""Grafana dashboards as code, keyed by uid; the Four Golden Signals are in their own module."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from grafana_foundation_sdk.builders import dashboard as db

from infra.render.monitoring import backups
from infra.render.monitoring import contract as m
from infra.render.monitoring.alerts import series as rec
from infra.render.monitoring.dashboards.golden_signals import golden_signals
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
    to_json,
)
from infra.render.monitoring.promql import selector
from infra.render.monitoring.slo import BUDGET_REMAINING, ERROR_RATIO, OBJECTIVE, WINDOWS, api_slos
from infra.settings.database import DatabaseProfile
from infra.settings.monitoring import Thresholds
from infra.settings.stack import StackSettings

DATABASE_UID = "samokoder-database"
LLM_UID = "samokoder-llm"
REDIS_UID = "samokoder-redis"
SLO_UID = "samokoder-slo"
# The audit's colours for budget left: red under the warning level, yellow under half.
HALF = 0.5
PER_POD = "by (pod)"
MAX_CONNECTIONS = 'name="max_connections"'
DAY = 86400


def dashboards(settings: StackSettings) -> dict[str, dict[str, Any]]:
    groups = settings.monitoring.instrumentation.enabled
    built = (
        golden_signals(settings.thresholds, groups, settings.database_cluster),
        slo_dashboard(settings),
        database_dashboard(settings),
        redis_dashboard(settings.thresholds),
        # The app sets none of the LLM metrics yet: the dashboard waits for the group.
        *((llm_dashboard(),) if "llm" in groups else ()),
    )
    return {dashboard["uid"]: dashboard for dashboard in map(to_json, built)}


def slo_dashboard(settings: StackSettings) -> db.Dashboard:
    """Budget left, SLI against objective, burn rate per window."""
    period = f"{settings.slo.window_days}d"
    slos = api_slos(settings.slo)
    gauges: list[Panel] = [
        gauge_panel(
            f"{slo.title}: budget left ({period})",
            f'{BUDGET_REMAINING}{{slo="{slo.name}"}}',
            "percentunit",
            falling(settings.thresholds.error_budget.warning / 100, HALF),
            width=24 // len(slos),
        )
        for slo in slos
    ]
    rows: dict[str, list[Panel]] = {"": gauges}
    for slo in slos:
        of_slo = f'{{slo="{slo.name}"}}'
        sli = [(f"1 - {ERROR_RATIO.format(window=w)}{of_slo}", f"SLI ({w})") for w in ("1h", period)]
        burn = [(f"{ERROR_RATIO.format(window=w)}{of_slo} / {slo.budget:g}", w) for w in WINDOWS]
        rows[slo.title] = [
            graph(
                f"{slo.title}: SLI against objective",
                [*sli, (f"{OBJECTIVE}{of_slo}", "objective")],
                "percentunit",
            ),
            graph(f"{slo.title}: burn rate", burn, "short"),
        ]
    return new_dashboard(
        SLO_UID, "Samokoder: SLO & error budget", f"SLIs computed by Prometheus over {period}.", rows
    )


def redis_dashboard(t: Thresholds) -> db.Dashboard:
    """Redis and the worker's queue: up, memory against maxmemory, clients, queue depth."""
    capacity = t.queue_depth.capacity
    # No series while the queue is empty (redis_exporter skips a key that does not exist).
    depth = f"max({selector(m.REDIS_KEY_SIZE, m.QUEUE)}) or on() vector(0)"
    rows: dict[str, list[Panel]] = {
        "": [
            stat_panel("Redis up", f"min({selector(m.REDIS_UP, m.REDIS)})", "short", falling(0.5, 1)),
            gauge_panel(
                "Memory of maxmemory",
                f"max({rec.REDIS_MEMORY_RATIO})",
                "percentunit",
                alert_levels(t.redis_memory),
            ),
            gauge_panel(
                f"Queue of its {capacity} jobs",
                f"({depth}) / {capacity}",
                "percentunit",
                alert_levels(t.queue_depth),
            ),
            graph(
                "Connected clients",
                [(f"sum({selector(m.REDIS_CLIENTS, m.REDIS)})", "clients")],
                "short",
                width=6,
            ),
        ],
        "Redis": [
            graph(
                "Memory",
                [
                    (f"max({selector(m.REDIS_MEMORY_USED, m.REDIS)})", "used"),
                    (f"max({selector(m.REDIS_MEMORY_MAX, m.REDIS)})", "maxmemory"),
                ],
                "bytes",
            ),
            graph(
                "Commands and rejected connections per second",
                [
                    (f"sum(rate({selector(m.REDIS_COMMANDS, m.REDIS)}[5m]))", "commands"),
                    (f"sum(rate({selector(m.REDIS_REJECTED, m.REDIS)}[5m]))", "rejected connections"),
                ],
                "ops",
            ),
        ],
        "Worker queue": [graph("Jobs waiting in arq:queue", [(depth, "queued")], "short", width=24)],
    }
    description = "Redis (noeviction: when full, writes fail) and arq's queue, from redis_exporter."
    return new_dashboard(REDIS_UID, "Samokoder: Redis & worker queue", description, rows)


def llm_dashboard() -> db.Dashboard:
    """LLM providers: requests, errors, latency, token spend."""
    panels = [
        graph("Requests by provider", [rate_by(m.LLM_REQUESTS, "provider")], "reqps"),
        graph("Error ratio by provider", [(rec.LLM_ERROR_RATIO, "{{provider}}")], "percentunit"),
        graph("Errors by type", [rate_by(m.LLM_ERRORS, "provider", "error_type")], "ops"),
        graph("P95 latency by provider", [(rec.LLM_LATENCY_P95, "{{provider}}")], "s"),
        graph("Tokens per second by type", [rate_by(m.LLM_TOKENS, "provider", "token_type")], "short"),
        graph("Tokens per second, hourly", [(rec.LLM_TOKENS_RATE, "all providers")], "short"),
    ]
    description = "Requests, errors, latency and tokens per LLM provider."
    return new_dashboard(LLM_UID, "Samokoder: LLM", description, {"": panels})


Series = Callable[..., str]


def of_cluster(name: str) -> Series:
    """A selector of a metric of the cluster ``name`` (the one serving the app), with more matchers."""
    return lambda metric, *matchers: selector(metric, m.database(name), *matchers)


def database_dashboard(settings: StackSettings) -> db.Dashboard:
    """CloudNativePG's instances, connections and replication, the backups, and (once the app sets
    them) queries, errors and pool as the app sees them."""
    cluster = of_cluster(settings.database_cluster)
    transactions = [(m.XACT_COMMIT, "commits"), (m.XACT_ROLLBACK, "rollbacks"), (m.DEADLOCKS, "deadlocks")]
    lag = f"max {PER_POD} ({cluster(m.REPLICATION_LAG)})"
    size = f"max by (datname) ({cluster(m.DATABASE_SIZE)})"
    waiting = f"max {PER_POD} ({cluster(m.WAL_ARCHIVE_STATUS, backups.READY)})"
    rows: dict[str, list[Panel]] = {
        "": headline_panels(settings.database, cluster),
        "PostgreSQL": [
            graph("Backends by state", [(f"sum by (state) ({cluster(m.BACKENDS)})", "{{state}}")], "short"),
            graph(
                "Transactions per second",
                [(f"sum(rate({cluster(metric)}[5m]))", legend) for metric, legend in transactions],
                "ops",
            ),
            graph("Replication lag by instance", [(lag, "{{pod}}")], "s"),
            graph("Database size", [(size, "{{datname}}")], "bytes"),
        ],
        # The WAL archive's progress and backlog, and the base backups' last success and failure.
        "Backups and WAL archiving": [
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
        ],
    }
    if "database" in settings.monitoring.instrumentation.enabled:
        rows["As the app sees it"] = app_panels(settings.thresholds)
    description = "PostgreSQL (CloudNativePG): instances, connections, transactions, replication and backups."
    return new_dashboard(DATABASE_UID, "Samokoder: Database", description, rows)


def headline_panels(profile: DatabaseProfile, cluster: Series) -> list[Panel]:
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
