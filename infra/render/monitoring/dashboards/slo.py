"""SLO & error budget: budget left, SLI against objective, burn rate per window."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

from infra.render.monitoring.dashboards.panels import falling, gauge_panel, graph, new_dashboard
from infra.render.monitoring.slo import BUDGET_REMAINING, ERROR_RATIO, OBJECTIVE, WINDOWS, api_slos
from infra.settings.stack import StackSettings

UID = "samokoder-slo"
# The audit's colours for budget left: red under the warning level, yellow under half.
HALF = 0.5


def slo_dashboard(settings: StackSettings) -> db.Dashboard:
    period = f"{settings.slo.window_days}d"
    budget = settings.thresholds.error_budget
    dashboard = new_dashboard(
        UID, "Samokoder: SLO & error budget", f"SLIs computed by Prometheus over {period}."
    )
    slos = api_slos(settings.slo)
    for slo in slos:
        dashboard = dashboard.with_panel(
            gauge_panel(
                f"{slo.title}: budget left ({period})",
                f'{BUDGET_REMAINING}{{slo="{slo.name}"}}',
                "percentunit",
                falling(budget.warning / 100, HALF),
                width=24 // len(slos),
            )
        )
    for slo in slos:
        selector = f'{{slo="{slo.name}"}}'
        dashboard = (
            dashboard.with_row(db.Row(slo.title))
            .with_panel(
                graph(
                    f"{slo.title}: SLI against objective",
                    [
                        (f"1 - {ERROR_RATIO.format(window='1h')}{selector}", "SLI (1h)"),
                        (f"1 - {ERROR_RATIO.format(window=period)}{selector}", f"SLI ({period})"),
                        (f"{OBJECTIVE}{selector}", "objective"),
                    ],
                    "percentunit",
                )
            )
            .with_panel(
                graph(
                    f"{slo.title}: burn rate",
                    [(f"{ERROR_RATIO.format(window=w)}{selector} / {slo.budget:g}", w) for w in WINDOWS],
                    "short",
                )
            )
        )
    return dashboard
