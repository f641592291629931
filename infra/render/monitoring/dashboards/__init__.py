"""Grafana dashboards as code, keyed by uid; the smaller ones are here, the larger in their modules."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders import dashboard as db

from infra.render.monitoring import contract as m
from infra.render.monitoring.alerts import series as rec
from infra.render.monitoring.dashboards.database import database_dashboard
from infra.render.monitoring.dashboards.golden_signals import golden_signals
from infra.render.monitoring.dashboards.panels import (
    Panel,
    alert_levels,
    falling,
    gauge_panel,
    graph,
    new_dashboard,
    rate_by,
    stat_panel,
    to_json,
)
from infra.render.monitoring.promql import selector
from infra.render.monitoring.slo import BUDGET_REMAINING, ERROR_RATIO, OBJECTIVE, WINDOWS, api_slos
from infra.settings.monitoring import Thresholds
from infra.settings.stack import StackSettings

LLM_UID = "samokoder-llm"
REDIS_UID = "samokoder-redis"
SLO_UID = "samokoder-slo"
# The audit's colours for budget left: red under the warning level, yellow under half.
HALF = 0.5


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
