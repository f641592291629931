"""Four Golden Signals (uid ``samokoder-golden-signals``), laid out as the audit's dashboard."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

from infra.render.monitoring import alerts as rec
from infra.render.monitoring import contract as m
from infra.render.monitoring.dashboards.panels import gauge_panel, graph, new_dashboard, rising, stat_panel
from infra.settings.monitoring import Thresholds

UID = "samokoder-golden-signals"
# The audit's traffic colours (requests per second); traffic has no alert.
TRAFFIC_YELLOW, TRAFFIC_RED = 100, 500


def golden_signals(t: Thresholds) -> db.Dashboard:
    api = m.API
    cpu = f"max({rec.CPU_RATIO})"
    return (
        new_dashboard(
            UID, "Samokoder: Four Golden Signals", "Traffic, latency, errors and saturation of the API."
        )
        .with_panel(stat_panel("Traffic", rec.HTTP_RATE, "reqps", rising(TRAFFIC_YELLOW, TRAFFIC_RED)))
        .with_panel(
            stat_panel(
                "Latency P95",
                rec.HTTP_LATENCY[95],
                "s",
                rising(t.latency_p95_seconds.warning, t.latency_p95_seconds.critical),
            )
        )
        .with_panel(
            stat_panel(
                "Errors (5xx)",
                rec.HTTP_ERROR_RATIO,
                "percentunit",
                rising(t.error_rate.warning / 100, t.error_rate.critical / 100),
            )
        )
        .with_panel(
            stat_panel(
                "Saturation (CPU)", cpu, "percentunit", rising(t.cpu.warning / 100, t.cpu.critical / 100)
            )
        )
        .with_row(db.Row("Traffic"))
        .with_panel(
            graph(
                "Requests by method",
                [(f"sum by (method) (rate({m.HTTP_REQUESTS}{{{api}}}[5m]))", "{{method}}")],
                "reqps",
            )
        )
        .with_panel(
            graph(
                "Requests by status",
                [(f"sum by (status) (rate({m.HTTP_REQUESTS}{{{api}}}[5m]))", "{{status}}")],
                "reqps",
            )
        )
        .with_row(db.Row("Latency"))
        .with_panel(graph("API percentiles", [(rec.HTTP_LATENCY[q], f"P{q}") for q in (50, 95, 99)], "s"))
        .with_panel(graph("LLM P95 by provider", [(rec.LLM_LATENCY_P95, "{{provider}}")], "s"))
        .with_row(db.Row("Errors"))
        .with_panel(
            graph(
                "5xx by status",
                [(f'sum by (status) (rate({m.HTTP_REQUESTS}{{{api}, status=~"5.."}}[5m]))', "{{status}}")],
                "reqps",
            )
        )
        .with_panel(
            graph("LLM error ratio by provider", [(rec.LLM_ERROR_RATIO, "{{provider}}")], "percentunit")
        )
        .with_row(db.Row("Saturation"))
        .with_panel(
            gauge_panel(
                "Memory",
                f"max({rec.MEMORY_RATIO})",
                "percentunit",
                rising(t.memory.warning / 100, t.memory.critical / 100),
            )
        )
        .with_panel(
            gauge_panel(
                "Disk",
                f"max({rec.VOLUME_RATIO})",
                "percentunit",
                rising(t.disk.warning / 100, t.disk.critical / 100),
            )
        )
        .with_panel(
            gauge_panel(
                "File descriptors",
                f"max({rec.FD_RATIO})",
                "percentunit",
                rising(t.file_descriptors.warning / 100, t.file_descriptors.critical / 100),
            )
        )
        .with_panel(
            graph(
                "Active connections", [(f"sum by (state) ({m.CONNECTIONS})", "{{state}}")], "short", width=6
            )
        )
    )
