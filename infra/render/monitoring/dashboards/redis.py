"""Redis and the worker's queue, from redis_exporter: up, memory against maxmemory, clients, queue depth."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

from infra.render.monitoring import contract as m
from infra.render.monitoring.alerts import series as rec
from infra.render.monitoring.dashboards.panels import (
    falling,
    gauge_panel,
    graph,
    new_dashboard,
    rising,
    stat_panel,
)
from infra.render.monitoring.promql import selector
from infra.settings.monitoring import Thresholds

UID = "samokoder-redis"


def redis_dashboard(t: Thresholds) -> db.Dashboard:
    redis = m.REDIS
    capacity = t.queue_depth.capacity
    # No series while the queue is empty (redis_exporter skips a key that does not exist).
    depth = f"max({selector(m.REDIS_KEY_SIZE, m.QUEUE)}) or on() vector(0)"
    return (
        new_dashboard(
            UID,
            "Samokoder: Redis & worker queue",
            "Redis (noeviction: when full, writes fail) and arq's queue, from redis_exporter.",
        )
        .with_panel(stat_panel("Redis up", f"min({selector(m.REDIS_UP, redis)})", "short", falling(0.5, 1)))
        .with_panel(
            gauge_panel(
                "Memory of maxmemory",
                f"max({rec.REDIS_MEMORY_RATIO})",
                "percentunit",
                rising(t.redis_memory.warning / 100, t.redis_memory.critical / 100),
            )
        )
        .with_panel(
            gauge_panel(
                f"Queue of its {capacity} jobs",
                f"({depth}) / {capacity}",
                "percentunit",
                rising(t.queue_depth.warning / 100, t.queue_depth.critical / 100),
            )
        )
        .with_panel(
            graph(
                "Connected clients",
                [(f"sum({selector(m.REDIS_CLIENTS, redis)})", "clients")],
                "short",
                width=6,
            )
        )
        .with_row(db.Row("Redis"))
        .with_panel(
            graph(
                "Memory",
                [
                    (f"max({selector(m.REDIS_MEMORY_USED, redis)})", "used"),
                    (f"max({selector(m.REDIS_MEMORY_MAX, redis)})", "maxmemory"),
                ],
                "bytes",
            )
        )
        .with_panel(
            graph(
                "Commands and rejected connections per second",
                [
                    (f"sum(rate({selector(m.REDIS_COMMANDS, redis)}[5m]))", "commands"),
                    (f"sum(rate({selector(m.REDIS_REJECTED, redis)}[5m]))", "rejected connections"),
                ],
                "ops",
            )
        )
        .with_row(db.Row("Worker queue"))
        .with_panel(graph("Jobs waiting in arq:queue", [(depth, "queued")], "short", width=24))
    )
