"""Four Golden Signals (uid ``samokoder-golden-signals``), laid out as the audit's dashboard.

Traffic, latency and errors are the edge's (ingress-nginx, users' requests
only); the app's own series add the per-endpoint detail, probes and scrapes
included. Panels on app metrics the app does not set yet appear only for the
instrumentation groups the profile turns on.

During a release Flagger's canary answers part of the API's requests beside the
promoted copy (through ``samokoder-api-canary``): a row shows the two side by
side, from the same ingress series, told apart by the controller's ``canary``
label alone. Each release's analysis shows on every panel as the stretch in
which Flagger gave the canary a weight (its own ``flagger_canary_weight``).
"""

from __future__ import annotations

from typing import Final

from grafana_foundation_sdk.builders import dashboard as db

from infra.conventions import APP_NAMESPACE, workload_name
from infra.render import flagger
from infra.render.monitoring import contract as m
from infra.render.monitoring.alerts import series as rec
from infra.render.monitoring.dashboards.logs import log_panels
from infra.render.monitoring.dashboards.panels import (
    DATASOURCE,
    Panel,
    alert_levels,
    gauge_panel,
    graph,
    new_dashboard,
    rate_by,
    rising,
    stat_panel,
)
from infra.render.monitoring.promql import quantile, ratio, selector, sum_rate
from infra.settings.monitoring import InstrumentationGroup, Thresholds

UID = "samokoder-golden-signals"

# A canary Ingress's requests keep the API Ingress's "ingress" and "service" labels; only
# "canary" tells them apart: the canary upstream's name where the canary answered, empty (so
# absent) where stable did (infra/ingress_contract.py: a canary Ingress).
STABLE: Final = 'canary=""'
CANARY: Final = 'canary!=""'
SIDES: Final = (("stable", STABLE), ("canary", CANARY))

# Flagger's weight of the API's canary, labelled with the target's name and the Canary's namespace
# (stored aside: infra/render/flagger.py); 0 between releases (fluxcd/flagger v1.44.0
# pkg/metrics/recorder.go:93-97, 173-177). A Prometheus annotation marks where a series is not 0.
RELEASE_WEIGHT: Final = (
    f'max({flagger.CANARY_WEIGHT}{{workload="{workload_name("api")}", '
    f'{flagger.CANARY_NAMESPACE_LABEL}="{APP_NAMESPACE}"}}) > 0'
)
RELEASES_ANNOTATION: Final = "Releases"
RELEASE_COLOUR: Final = "purple"
# The audit's traffic colours (requests per second); traffic has no alert.
TRAFFIC_YELLOW, TRAFFIC_RED = 100, 500
ENDPOINT_LEGEND = f"{{{{{m.APP_ENDPOINT}}}}}"


def golden_signals(t: Thresholds, groups: frozenset[InstrumentationGroup], served: str) -> db.Dashboard:
    """``served``: the database cluster serving the app, whose logs the Logs row shows."""
    llm = "llm" in groups
    edge = selector(m.EDGE_REQUESTS, m.EDGE_API)
    app_p95 = quantile(0.95, m.HTTP_DURATION, [m.API], "5m", [m.APP_ENDPOINT])
    rows: dict[str, list[Panel]] = {
        # One figure per signal, coloured by the stack's thresholds (traffic by the audit's).
        "": [
            stat_panel("Traffic", rec.EDGE_RATE, "reqps", rising(TRAFFIC_YELLOW, TRAFFIC_RED)),
            stat_panel("Latency P95", rec.HTTP_LATENCY[95], "s", alert_levels(t.latency_p95_seconds)),
            stat_panel("Errors (5xx)", rec.HTTP_ERROR_RATIO, "percentunit", alert_levels(t.error_rate)),
            stat_panel("Saturation (CPU)", f"max({rec.CPU_RATIO})", "percentunit", alert_levels(t.cpu)),
        ],
        "Traffic": [
            graph("Requests at the ingress by status", [rate_by(edge, "status")], "reqps"),
            graph(
                "Requests the app counted by endpoint (probes and scrapes included)",
                [rate_by(f"{m.HTTP_REQUESTS}{{{m.API}}}", m.APP_ENDPOINT)],
                "reqps",
            ),
        ],
        "Latency": [
            graph(
                "API percentiles at the ingress", [(rec.HTTP_LATENCY[q], f"P{q}") for q in (50, 95, 99)], "s"
            ),
            graph("P95 by endpoint, in the app", [(app_p95, ENDPOINT_LEGEND)], "s"),
            *([graph("LLM P95 by provider", [(rec.LLM_LATENCY_P95, "{{provider}}")], "s")] if llm else []),
        ],
        "Errors": [
            graph(
                "5xx at the ingress by status",
                [rate_by(selector(m.EDGE_REQUESTS, m.EDGE_API, m.EDGE_ERRORS), "status")],
                "reqps",
            ),
            graph(
                "Rate-limited (429) by endpoint",
                [rate_by(selector(m.RATE_LIMIT_HITS, m.API), m.APP_ENDPOINT)],
                "reqps",
            ),
            *(
                [graph("LLM error ratio by provider", [(rec.LLM_ERROR_RATIO, "{{provider}}")], "percentunit")]
                if llm
                else []
            ),
        ],
        "Saturation": saturation_panels(t, groups),
        # From Loki: what the errors above say, and the release's migration and database beside them.
        "Logs": log_panels(served),
        "Canary beside stable": canary_panels(),
    }
    return new_dashboard(
        UID, "Samokoder: Four Golden Signals", "Traffic, latency, errors and saturation of the API.", rows
    ).annotation(release_annotations())


def saturation_panels(t: Thresholds, groups: frozenset[InstrumentationGroup]) -> list[Panel]:
    """Memory, disk and descriptors against their thresholds; connections, or requests in progress."""
    usage = [
        ("Memory", rec.MEMORY_RATIO, t.memory),
        ("Disk", rec.VOLUME_RATIO, t.disk),
        ("File descriptors", rec.FD_RATIO, t.file_descriptors),
    ]
    in_progress = f"sum by (instance) ({selector(m.HTTP_IN_PROGRESS, m.API)})"
    title, now = ("Requests in progress", (in_progress, "{{instance}}"))
    if "connections" in groups:
        title, now = ("Active connections", (f"sum by (state) ({m.CONNECTIONS})", "{{state}}"))
    return [
        *(
            gauge_panel(name, f"max({ratio})", "percentunit", alert_levels(level))
            for name, ratio, level in usage
        ),
        graph(title, [now], "short", width=6),
    ]


def canary_panels() -> list[Panel]:
    """Requests, 5xx share and P95 at the ingress, each with a "stable" and a "canary" query."""

    def requests(side: str) -> str:
        return sum_rate(selector(m.EDGE_REQUESTS, m.EDGE_API, side), "5m")

    def error_share(side: str) -> str:
        failed = sum_rate(selector(m.EDGE_REQUESTS, m.EDGE_API, m.EDGE_ERRORS, side), "5m")
        # ingress-nginx has no 5xx series until a 5xx: a side without any reads 0, not "no data".
        return ratio(f"({failed} or 0 * {requests(side)})", requests(side))

    def p95(side: str) -> str:
        return quantile(0.95, m.EDGE_DURATION, (m.EDGE_API, m.EDGE_NOT_WEBSOCKET, side), "5m")

    signals = (
        ("Requests: stable and canary", requests, "reqps"),
        ("5xx share: stable and canary", error_share, "percentunit"),
        ("P95 at the ingress: stable and canary (websockets aside)", p95, "s"),
    )
    return [
        graph(title, [(expr(s), name) for name, s in SIDES], unit, width=8) for title, expr, unit in signals
    ]


def release_annotations() -> db.AnnotationQuery:
    """Each release's analysis, the canary's weight above 0, on every panel of the dashboard."""
    return (
        db.AnnotationQuery()
        .name(RELEASES_ANNOTATION)
        .datasource(DATASOURCE)
        .expr(RELEASE_WEIGHT)
        .enable(True)
        .hide(False)
        .icon_color(RELEASE_COLOUR)
    )
