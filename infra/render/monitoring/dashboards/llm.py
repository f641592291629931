"""LLM providers: requests, errors, latency, token spend."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

from infra.render.monitoring import contract as m
from infra.render.monitoring.alerts import series as rec
from infra.render.monitoring.dashboards.panels import graph, new_dashboard

UID = "samokoder-llm"


def llm_dashboard() -> db.Dashboard:
    return (
        new_dashboard(UID, "Samokoder: LLM", "Requests, errors, latency and tokens per LLM provider.")
        .with_panel(
            graph(
                "Requests by provider",
                [(f"sum by (provider) (rate({m.LLM_REQUESTS}[5m]))", "{{provider}}")],
                "reqps",
            )
        )
        .with_panel(graph("Error ratio by provider", [(rec.LLM_ERROR_RATIO, "{{provider}}")], "percentunit"))
        .with_panel(
            graph(
                "Errors by type",
                [
                    (
                        f"sum by (provider, error_type) (rate({m.LLM_ERRORS}[5m]))",
                        "{{provider}} {{error_type}}",
                    )
                ],
                "ops",
            )
        )
        .with_panel(graph("P95 latency by provider", [(rec.LLM_LATENCY_P95, "{{provider}}")], "s"))
        .with_panel(
            graph(
                "Tokens per second by type",
                [
                    (
                        f"sum by (provider, token_type) (rate({m.LLM_TOKENS}[5m]))",
                        "{{provider}} {{token_type}}",
                    )
                ],
                "short",
            )
        )
        .with_panel(graph("Tokens per second, hourly", [(rec.LLM_TOKENS_RATE, "all providers")], "short"))
    )
