"""Alert and recording rules of the platform, built from a stack's settings.

Four rule files: the API's golden signals (measured at the edge, from
ingress-nginx), its dependencies (Redis; the LLM providers and the database
as the app sees them), saturation, and the product (auth, projects) and meta
alerts (probes, targets down, Watchdog, InfoInhibitor); the API's and the
product and meta files are built here. The
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
from infra.render.monitoring.alerts.dependencies import dependencies
from infra.render.monitoring.alerts.saturation import saturation
from infra.render.monitoring.promql import quantile, ratio, selector, sum_rate
from infra.render.monitoring.rules import Alert, Recording, RuleFile, RuleGroup, threshold_alerts
from infra.settings.monitoring import InstrumentationGroup, Thresholds
from infra.settings.stack import StackSettings

API_LABELS = {"service": "api"}


def api_golden_signals(t: Thresholds) -> RuleFile:
    """The API's golden signals, measured at the edge (ingress-nginx) and by the app."""
    rules: tuple[Alert | Recording, ...] = (*_recordings(), *_availability(), *_signals(t))
    return RuleFile("api", (RuleGroup("samokoder-api", rules),))


def _recordings() -> list[Recording]:
    requests = selector(m.HTTP_REQUESTS, m.API)
    edge = selector(m.EDGE_REQUESTS, m.EDGE_API)
    edge_errors = selector(m.EDGE_REQUESTS, m.EDGE_API, m.EDGE_ERRORS)
    recordings: list[Recording] = [
        Recording(rec.HTTP_RATE, sum_rate(requests, "5m")),
        Recording(rec.EDGE_RATE, sum_rate(edge, "5m")),
        Recording(rec.HTTP_ERROR_RATIO, ratio(sum_rate(edge_errors, "5m"), sum_rate(edge, "5m"))),
        Recording(
            rec.RATE_LIMITED_RATIO,
            ratio(sum_rate(selector(m.RATE_LIMIT_HITS, m.API), "5m"), sum_rate(requests, "5m")),
        ),
    ]
    recordings += [
        Recording(record, quantile(q / 100, m.EDGE_DURATION, [m.EDGE_API, m.EDGE_NOT_WEBSOCKET], "5m"))
        for q, record in rec.HTTP_LATENCY.items()
    ]
    return recordings


def _availability() -> list[Alert]:
    """Is the API up and answering at all."""
    restarts = selector(m.RESTARTS, m.API_CONTAINER)
    backing_off = selector(m.WAITING, m.API_CONTAINER, m.CRASH_LOOP)
    per_container = "by (namespace, pod, container)"
    return [
        Alert(
            "ApiDown",
            f"(sum(up{{{m.API}}}) or vector(0)) == 0",
            "critical",
            "The API has no healthy scrape target",
            "No API instance has answered Prometheus for 2 minutes: users cannot reach Samokoder.",
            for_="2m",
            labels=API_LABELS,
        ),
        Alert(
            "ApiNoTraffic",
            f"{rec.HTTP_RATE} == 0 and on() sum(up{{{m.API}}}) > 0",
            "warning",
            "The API serves no requests",
            "The API is up but has counted no request for 10 minutes, not even health checks: "
            "its probes or its middleware are broken.",
            for_="10m",
            labels={**API_LABELS, "signal": "traffic"},
        ),
        # Restarting over and over and backing off now: KubePodCrashLooping (kube-prometheus-stack)
        # only warns after 15 minutes; the API's pods page.
        Alert(
            "ApiPodsCrashLooping",
            f"sum {per_container} (increase({restarts}[15m])) >= 3\n"
            f"and on (namespace, pod, container)\n"
            f"max {per_container} (max_over_time({backing_off}[5m])) >= 1",
            "critical",
            "API pod {{ $labels.pod }} is crash-looping",
            "{{ $labels.pod }} restarted its api container {{ $value | humanize }} times in 15 minutes "
            "and is waiting in CrashLoopBackOff: the API runs with fewer pods, or none.",
            for_="2m",
            labels={**API_LABELS, "signal": "availability"},
        ),
    ]


def _signals(t: Thresholds) -> list[Alert]:
    """How well the API answers: latency, errors, rate limiting."""
    return [
        *threshold_alerts(
            "ApiLatencyHigh",
            rec.HTTP_LATENCY[95],
            t.latency_p95_seconds,
            summary="API P95 latency is high",
            description="P95 latency of the API at the ingress is {{ $value | humanizeDuration }} "
            "(threshold {level}) over 5 minutes.",
            for_="10m",
            labels={**API_LABELS, "signal": "latency"},
        ),
        *threshold_alerts(
            "ApiErrorRateHigh",
            rec.HTTP_ERROR_RATIO,
            t.error_rate,
            summary="API answers too many 5xx",
            description="{{ $value | humanizePercentage }} of the API's requests at the ingress failed "
            "with 5xx over 5 minutes (threshold {level}).",
            for_="5m",
            labels={**API_LABELS, "signal": "errors"},
        ),
        Alert(
            "HighRateLimitHits",
            f"{rec.RATE_LIMITED_RATIO}\n> {t.rate_limit_hits_percent / 100:g}",
            "warning",
            "The API rate-limits many requests",
            "{{ $value | humanizePercentage }} of the API's requests were answered 429 by its rate "
            f"limiter over 5 minutes (threshold {t.rate_limit_hits_percent:g} %): an abusive client, "
            "or limits too tight for real use.",
            for_="10m",
            labels={**API_LABELS, "signal": "rate-limit"},
        ),
    ]


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
