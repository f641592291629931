"""The API's ``Canary``: how Flagger releases it, and the ``MetricTemplate``s it is judged by.

Flagger (infra/render/flagger.py) owns the API's promoted copy: when the API
Deployment's pod template changes (a release's image), it scales that
Deployment up as the canary, sends it ``canary.weights`` of the API's requests
one step every ``canary.analysis_minutes`` through a copy of the API's
Ingress marked canary, and checks each window on the canary's own requests at
the ingress; then copies the template to ``samokoder-api-primary`` and scales
the canary to zero, or routes everything back and scales it to zero
(what Flagger makes: flagger_made.py). Only the API canaries: the worker takes
no traffic to split and the site's pages name their scripts by content hash
(infra/app_contract.py: FRONTEND_HASHED_ASSETS); both roll after the API's
promotion (.github/workflows/deploy-stack.yml, docs/runbooks/canary.md).

The checks are the SLOs' own expressions (infra/render/monitoring/slo.py)
narrowed to the canary's requests: the availability SLO's bad and total
events as a percentage, and the latency SLO's timed requests' quantile
(its ``latency_percent``) against its threshold. Canary requests keep the API
Ingress's ``ingress`` and ``service`` labels and differ by ``canary`` alone,
the canary upstream's name (infra/ingress_contract.py: a canary Ingress), which
Flagger's template variables spell for any namespace; ``ingress`` and
``canary`` collide with no target label, so the queries read our Prometheus,
which stores the request's namespace as ``exported_namespace``, and one that
kept it alike. Flagger's built-in nginx checks select ``namespace``
(pkg/metrics/observers/nginx.go:27-71), which ours holds the controller's in.
"""

from __future__ import annotations

from typing import Any, Final

from infra import app_contract as app
from infra import ingress_contract as edge
from infra.conventions import (
    APP_NAMESPACE,
    HTTP_PORT_NAME,
    Naming,
    canary_name,
    primary_name,
    workload_name,
)
from infra.render import flagger
from infra.render.k8s import ours
from infra.render.monitoring import contract as m
from infra.render.monitoring.promql import quantile, selector
from infra.render.monitoring.slo import api_slos
from infra.render.workloads.manifests import budget_of, named
from infra.render.workloads.routes import API as API_INGRESS
from infra.settings.canary import PROGRESS_DEADLINE_SECONDS, CanaryProfile
from infra.settings.monitoring import SloProfile

API_VERSION: Final = "flagger.app/v1beta1"
# Named after its target, as Flagger names what it makes from it.
CANARY: Final = workload_name("api")
# The MetricTemplate model's functions (pkg/apis/flagger/v1beta1/metric.go:100-112 at v1.44.0), which
# Flagger fills in before it queries (pkg/controller/scheduler_metrics.go:303-316, 355-378): the
# metric's interval, the Canary's namespace and its apex Service (the target's name unless
# service.name says otherwise).
INTERVAL, NAMESPACE, SERVICE = "{{ interval }}", "{{ namespace }}", "{{ service }}"
ERRORS_TEMPLATE: Final = f"{CANARY}-5xx-percent"
LATENCY_TEMPLATE: Final = f"{CANARY}-latency-seconds"
# A Canary that skips its analysis (a rollback) still waits for Flagger's next tick, then one more
# once the pods are ready (scheduler.go:778-830); Flagger restarts the Canary's job, which runs at
# once, when the interval changes (scheduler.go:104-122, job.go:33-35): this short one keeps a
# rollback within the audit's 5 minutes.
SKIPPED_INTERVAL: Final = "30s"
SMOKE_TIMEOUT: Final = "30s"


def canary_upstream(namespace: str = APP_NAMESPACE, service: str = CANARY) -> str:
    """The ``canary`` label of the requests Flagger's canary answered (its Service's upstream)."""
    # Flagger's canary Service is "<apex>-canary" (pkg/apis/flagger/v1beta1/canary.go:608-615); the
    # canary Ingress keeps the API Ingress's backend port (pkg/router/ingress.go:59-68).
    return edge.upstream_name(namespace, f"{service}-canary", app.API_PORT)


def canary_matcher() -> str:
    """The canary's requests, as a template Flagger fills in for the Canary's namespace and Service."""
    return f'canary="{canary_upstream(NAMESPACE, SERVICE)}"'


def _enough_requests(profile: CanaryProfile) -> str:
    requests = selector(m.EDGE_REQUESTS, m.EDGE_API, canary_matcher())
    return f"sum(increase({requests}[{INTERVAL}])) >= {profile.min_requests}"


def errors_query(profile: CanaryProfile, slo: SloProfile) -> str:
    """The canary's 5xx answers, percent of its requests, in the window; nothing on too few requests.

    A window without a 5xx has no 5xx series at all: its rate is taken as 0, not as no answer
    (which Flagger counts as a failed check: scheduler_metrics.go:316-324).
    """
    availability = api_slos(slo, only=(canary_matcher(),))[0]
    share = f"100 * ({availability.bad(INTERVAL)} or vector(0))\n/\n{availability.total(INTERVAL)}"
    return f"(\n{share}\n)\nand on ()\n({_enough_requests(profile)})"


def latency_query(profile: CanaryProfile, slo: SloProfile) -> str:
    """The canary's latency at the SLO's percentile in the window (websockets aside), on enough requests."""
    latency = api_slos(slo, only=(canary_matcher(),))[1]
    percentile = quantile(slo.latency_percent / 100, m.EDGE_DURATION, latency.matchers, INTERVAL)
    return f"{percentile}\nand on ()\n({_enough_requests(profile)})"


def metric_templates(naming: Naming, profile: CanaryProfile, slo: SloProfile) -> list[dict[str, Any]]:
    provider = {"type": "prometheus", "address": flagger.PROMETHEUS_URL}
    queries = {ERRORS_TEMPLATE: errors_query(profile, slo), LATENCY_TEMPLATE: latency_query(profile, slo)}
    return [
        ours(
            API_VERSION, "MetricTemplate", naming, name, "canary", spec={"provider": provider, "query": query}
        )
        for name, query in queries.items()
    ]


def checks(profile: CanaryProfile, slo: SloProfile) -> list[dict[str, Any]]:
    """The analysis's metrics: each template, its window, and the most it may read."""
    limits = [
        ("5xx-percent", ERRORS_TEMPLATE, profile.max_error_percent),
        (f"p{slo.latency_percent:g}-seconds", LATENCY_TEMPLATE, slo.latency_threshold_seconds),
    ]
    return [
        {
            "name": name,
            "templateRef": {"name": template},
            "thresholdRange": {"max": most},
            "interval": f"{profile.analysis_minutes}m",
        }
        for name, template, most in limits
    ]


def smoke_check() -> dict[str, Any]:
    """Before any request is shifted: the canary's own pods answer /health with the app's constant.

    Through the loadtester's blocking ``bash`` task (pkg/loadtester/server.go:308-336: a failing
    command answers 500, a failed webhook), whose image has curl and jq (Dockerfile.loadtester:49).
    """
    url = f"http://{canary_name('api')}.{APP_NAMESPACE}:{app.API_PORT}{app.API_HEALTH_PATH}"
    command = f"set -o pipefail; curl -sS --fail --max-time 5 {url} | jq -e '.status == \"ok\"'"
    return {
        "name": "smoke",
        "type": "pre-rollout",
        "url": flagger.LOADTESTER_URL,
        "timeout": SMOKE_TIMEOUT,
        "retries": 2,
        "metadata": {"type": "bash", "cmd": command},
    }


def primary_budget(naming: Naming) -> dict[str, Any]:
    """A disruption budget for the promoted pods Flagger runs (their labels: flagger_made.py)."""
    return budget_of(named(naming, primary_name("api"), "api"))


def abort_gate() -> dict[str, Any]:
    """An operator's way to end a release now: the loadtester's rollback gate, asked at every tick.

    Opened by hand (docs/runbooks/canary.md), it answers 200 and Flagger rolls back
    (pkg/controller/scheduler.go:368-378, scheduler_hooks.go:126-139; pkg/loadtester/server.go:144-177).
    """
    return {"name": "abort", "type": "rollback", "url": f"{flagger.LOADTESTER_URL}rollback/check"}


def service_labels(naming: Naming) -> dict[str, dict[str, dict[str, str]]]:
    """The labels of the three Services Flagger makes (it adds the name label: kubernetes_default.go:150).

    The promoted and the canary Services carry the API's component, which the API's ServiceMonitor
    selects: every API pod scraped once. The apex selects the promoted pods too; its own component
    keeps them from being scraped twice.
    """
    made = {"app.kubernetes.io/managed-by": "flagger"}
    return {
        "apex": {"labels": {**naming.k8s_labels(CANARY, "api-apex"), **made}},
        "primary": {"labels": {**naming.k8s_labels(primary_name("api"), "api"), **made}},
        "canary": {"labels": {**naming.k8s_labels(canary_name("api"), "api"), **made}},
    }


def canary(naming: Naming, profile: CanaryProfile, slo: SloProfile, *, skip_analysis: bool) -> dict[str, Any]:
    """The API Deployment's Canary: routed by ingress-nginx through the API's Ingress, scaled by its HPA."""
    analysis = {
        "interval": SKIPPED_INTERVAL if skip_analysis else f"{profile.analysis_minutes}m",
        "threshold": profile.max_failed_checks,
        "stepWeights": list(profile.weights),
        "metrics": checks(profile, slo),
        "webhooks": [smoke_check(), abort_gate()],
    }
    return ours(
        API_VERSION,
        "Canary",
        naming,
        CANARY,
        "canary",
        spec={
            "provider": "nginx",
            "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": CANARY},
            # Its backend must be the apex Service, which Flagger makes (pkg/router/ingress.go:59-72).
            "ingressRef": {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": API_INGRESS},
            "autoscalerRef": {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "name": CANARY,
            },
            "progressDeadlineSeconds": PROGRESS_DEADLINE_SECONDS,
            "service": {
                "port": app.API_PORT,
                "portName": HTTP_PORT_NAME,
                "targetPort": HTTP_PORT_NAME,
                **service_labels(naming),
            },
            "skipAnalysis": skip_analysis,
            "analysis": analysis,
        },
    )


def judged_on(profile: CanaryProfile, slo: SloProfile) -> list[str]:
    """What a release's API is judged on, in words (Markdown list items) for a pull request's comment."""
    steps = " → ".join(f"{w} %" for w in profile.weights)
    return [
        f"- Flagger shifts {steps} of the API's requests to it, one step every "
        f"{profile.analysis_minutes} min, then promotes it; the worker and the site roll after",
        f"- each step's window: the canary's 5xx answers at most {profile.max_error_percent:g} % and its "
        f"P{slo.latency_percent:g} at most {slo.latency_threshold_seconds:g} s (the latency SLO's "
        f"threshold), on at least {profile.min_requests} requests",
        f"- a failed check holds the step; at {profile.max_failed_checks} failed checks Flagger routes "
        "everything back and the deploy fails",
        f"- Flagger's verdict comes within {profile.verdict_minutes()} min, which the deploy waits for",
    ]
