"""Alert and recording rules of the platform, built from a stack's settings.

Four rule files: the API's golden signals (measured at the edge, from
ingress-nginx), its dependencies (Redis; the LLM providers and the database
as the app sees them), saturation, and the product and meta alerts (targets
down, Watchdog, InfoInhibitor). The SLO rules are in ``monitoring/slo.py``; the
series the rules record, which the dashboards read too, in ``series.py``. Every ratio
aggregates both sides before dividing.

Rules on app metrics the app does not set yet (LLM, database client, auth,
projects) are generated only for the groups ``monitoring.instrumentation``
turns on, which the settings allow only once the app contract marks their
metrics emitted.
"""

from __future__ import annotations

from infra.render.monitoring.alerts.api import api_golden_signals
from infra.render.monitoring.alerts.dependencies import dependencies
from infra.render.monitoring.alerts.product import product_and_meta
from infra.render.monitoring.alerts.saturation import saturation
from infra.render.monitoring.rules import RuleFile
from infra.settings.stack import StackSettings


def platform_rules(settings: StackSettings) -> tuple[RuleFile, ...]:
    t = settings.thresholds
    groups = settings.monitoring.instrumentation.enabled
    return (
        api_golden_signals(t),
        dependencies(t, groups),
        saturation(t, groups),
        product_and_meta(t, groups),
    )
