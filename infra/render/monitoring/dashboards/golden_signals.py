"""Four Golden Signals (uid ``samokoder-golden-signals``), laid out as the audit's dashboard.

Traffic, latency and errors are the edge's (ingress-nginx, users' requests
only); the app's own series add the per-endpoint detail, probes and scrapes
included. Panels on app metrics the app does not set yet appear only for the
instrumentation groups the profile turns on.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

from infra.render.monitoring import alerts as rec
from infra.render.monitoring import contract as m
from infra.render.monitoring.dashboards.panels import gauge_panel, graph, new_dashboard, rising, stat_panel
from infra.render.monitoring.promql import selector
from infra.settings.monitoring import InstrumentationGroup, Thresholds

UID = "samokoder-golden-signals"
# The audit's traffic colours (requests per second); traffic has no alert.
TRAFFIC_YELLOW, TRAFFIC_RED = 100, 500
ENDPOINT_LEGEND = f"{{{{{m.APP_ENDPOINT}}}}}"


def golden_signals(t: Thresholds, groups: frozenset[InstrumentationGroup]) -> db.Dashboard:
    api = m.API
    edge = selector(m.EDGE_REQUESTS, m.EDGE_API)
    cpu = f"max({rec.CPU_RATIO})"
    app_p95 = (
        f"histogram_quantile(0.95, sum by (le, {m.APP_ENDPOINT}) "
        f"(rate({selector(f'{m.HTTP_DURATION}_bucket', api)}[5m])))"
    )
    dashboard = (
        new_dashboard(
            UID, "Samokoder: Four Golden Signals", "Traffic, latency, errors and saturation of the API."
        )
        .with_panel(stat_panel("Traffic", rec.EDGE_RATE, "reqps", rising(TRAFFIC_YELLOW, TRAFFIC_RED)))
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
                "Requests at the ingress by status",
                [(f"sum by (status) (rate({edge}[5m]))", "{{status}}")],
                "reqps",
            )
        )
        .with_panel(
            graph(
                "Requests the app counted by endpoint (probes and scrapes included)",
                [(f"sum by ({m.APP_ENDPOINT}) (rate({m.HTTP_REQUESTS}{{{api}}}[5m]))", ENDPOINT_LEGEND)],
                "reqps",
            )
        )
        .with_row(db.Row("Latency"))
        .with_panel(
            graph(
                "API percentiles at the ingress", [(rec.HTTP_LATENCY[q], f"P{q}") for q in (50, 95, 99)], "s"
            )
        )
        .with_panel(graph("P95 by endpoint, in the app", [(app_p95, ENDPOINT_LEGEND)], "s"))
    )
    if "llm" in groups:
        dashboard = dashboard.with_panel(
            graph("LLM P95 by provider", [(rec.LLM_LATENCY_P95, "{{provider}}")], "s")
        )
    dashboard = (
        dashboard.with_row(db.Row("Errors"))
        .with_panel(
            graph(
                "5xx at the ingress by status",
                [
                    (
                        f"sum by (status) (rate({selector(m.EDGE_REQUESTS, m.EDGE_API, m.EDGE_ERRORS)}[5m]))",
                        "{{status}}",
                    )
                ],
                "reqps",
            )
        )
        .with_panel(
            graph(
                "Rate-limited (429) by endpoint",
                [
                    (
                        f"sum by ({m.APP_ENDPOINT}) (rate({selector(m.RATE_LIMIT_HITS, api)}[5m]))",
                        ENDPOINT_LEGEND,
                    )
                ],
                "reqps",
            )
        )
    )
    if "llm" in groups:
        dashboard = dashboard.with_panel(
            graph("LLM error ratio by provider", [(rec.LLM_ERROR_RATIO, "{{provider}}")], "percentunit")
        )
    dashboard = (
        dashboard.with_row(db.Row("Saturation"))
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
    )
    if "connections" in groups:
        return dashboard.with_panel(
            graph(
                "Active connections", [(f"sum by (state) ({m.CONNECTIONS})", "{{state}}")], "short", width=6
            )
        )
    return dashboard.with_panel(
        graph(
            "Requests in progress",
            [(f"sum by (instance) ({selector(m.HTTP_IN_PROGRESS, api)})", "{{instance}}")],
            "short",
            width=6,
        )
    )
