"""Alert and recording rules of the platform, built from a stack's settings.

Four rule files: the API's golden signals (measured at the edge, from
ingress-nginx), its dependencies (Redis; the LLM providers and the database
as the app sees them), saturation, and the product (auth, projects) and meta
alerts (probes, targets down, Watchdog, InfoInhibitor), which are here. The
SLO rules are in ``monitoring/slo.py``; the series the rules record, which the
dashboards read too, in ``series.py``. Every ratio aggregates both sides
before dividing.

Rules on app metrics the app does not set yet (LLM, database client, auth,
projects) are generated only for the groups ``monitoring.instrumentation``
turns on, which the settings allow only once the app contract marks their
metrics emitted.
"""

from __future__ import annotations

from infra.render.monitoring import contract as m
from infra.render.monitoring.alerts import series as rec
from infra.render.monitoring.alerts.api import api_golden_signals
from infra.render.monitoring.alerts.dependencies import dependencies
from infra.render.monitoring.alerts.saturation import saturation
from infra.render.monitoring.promql import ratio, selector, sum_rate
from infra.render.monitoring.rules import Alert, Recording, RuleFile, RuleGroup, threshold_alerts
from infra.settings.monitoring import InstrumentationGroup, Thresholds
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


def product_and_meta(t: Thresholds, groups: frozenset[InstrumentationGroup]) -> RuleFile:
    failures = sum_rate(selector(m.AUTH_ATTEMPTS, m.AUTH_FAILURE), "5m")
    attempts = sum_rate(m.AUTH_ATTEMPTS, "5m")
    auth = (
        Recording(rec.AUTH_FAILURE_RATIO, ratio(failures, attempts)),
        *threshold_alerts(
            "AuthFailureSpike",
            rec.AUTH_FAILURE_RATIO,
            t.auth_failure_rate,
            summary="Many logins fail",
            description="{{ $value | humanizePercentage }} of login attempts failed over 5 minutes "
            "(threshold {level}): a brute-force attempt or a broken auth path.",
            for_="10m",
            labels={"service": "api", "signal": "security"},
        ),
    )
    projects = (
        Alert(
            "NoProjectsCreated",
            f"(sum(increase({m.PROJECTS_CREATED}[6h])) or vector(0)) == 0\nand on() sum(up{{{m.API}}}) > 0",
            "info",
            "No project was created for 6 hours",
            "The API is up but nobody created a project in 6 hours: check the create-project flow.",
            for_="30m",
            labels={"service": "api", "signal": "product"},
        ),
    )
    product = (*(auth if "auth" in groups else ()), *(projects if "projects" in groups else ()))
    meta = RuleGroup(
        "samokoder-meta",
        (
            Alert(
                "EndpointProbeFailing",
                f"min by (instance) (probe_success{{{m.PROBE}}}) == 0",
                "critical",
                "{{ $labels.instance }} fails from inside the cluster",
                "The blackbox exporter has not had a good answer from {{ $labels.instance }} for 3 minutes: "
                "users reaching it through its Service get errors or nothing.",
                for_="3m",
                labels={"signal": "availability"},
            ),
            Alert(
                "TargetDown",
                f'up{{namespace="{m.NAMESPACE}"}} == 0',
                "warning",
                "Scrape target {{ $labels.job }}/{{ $labels.instance }} is down",
                "Prometheus cannot scrape {{ $labels.instance }} of {{ $labels.job }}: its metrics "
                "and the alerts that read them are blind.",
                for_="5m",
            ),
            Alert(
                "Watchdog",
                "vector(1)",
                "none",
                "Alerting pipeline heartbeat",
                "Always firing. If the dead man's switch stops receiving it, Prometheus or "
                "Alertmanager is broken.",
            ),
            # As kube-prometheus: fires where info alerts fire without any
            # warning or critical beside them, so Alertmanager can hold back the
            # cluster's context-only info alerts (see the inhibition rules).
            Alert(
                "InfoInhibitor",
                'ALERTS{severity="info"} == 1\nunless on(namespace) '
                'ALERTS{alertname!="InfoInhibitor", severity=~"warning|critical", alertstate="firing"} == 1',
                "none",
                "Info alerts without a warning or critical beside them",
                "Used by Alertmanager to hold back context-only info alerts; never sent to people.",
            ),
        ),
    )
    return RuleFile("product", (*((RuleGroup("samokoder-product", product),) if product else ()), meta))
