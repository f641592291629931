"""Flagger and its loadtester: their Helm values, and the facts of Flagger the program relies on.

Flagger (the controller of the ``Canary`` the API's releases go through,
infra/render/workloads/canary.py) runs in its own namespace, watches the app
namespace only, routes by ingress-nginx and reads the stack's Prometheus. Its
loadtester runs the pre-rollout smoke check: Flagger's webhooks are POSTs
(pkg/controller/webhook.go:73), which the API's ``/health`` does not answer.

Every fact names its file in ``fluxcd/flagger`` at tag ``v1.44.0``, the
version infra/render/charts.py pins (the loadtester's chart 0.38.0 is released
from the same tag), so an upgrade is a reread of these lines.
"""

from __future__ import annotations

from typing import Any, Final

from infra.app_contract import API_PORT
from infra.conventions import APP_NAMESPACE, FLAGGER_NAMESPACE, MONITORING_NAMESPACE, NAME_LABEL, Naming
from infra.render import charts
from infra.render.k8s import dns_ports, namespace_peer, network_policy, ports, rule
from infra.render.workloads.security import container_security

INSTANCE, VERSION = "app.kubernetes.io/instance", "app.kubernetes.io/version"
# Each release is named after its chart unless said here (components/kube.py: helm_release); the
# chart's fullname is then the release name (charts/*/templates/_helpers.tpl:20-31 / :14-25).
FLAGGER_RELEASE: Final = charts.FLAGGER.name
# The name its docs give it (docs/gitbook/usage/webhooks.md:155), and the Service's.
LOADTESTER_RELEASE: Final = "flagger-loadtester"

# --- pods and ports ---------------------------------------------------------------
# The controller's pod labels (charts/flagger/templates/deployment.yaml:33-36) and its one port, where
# it serves /metrics and /healthz (deployment.yaml:88-90, 163-182).
FLAGGER_POD_LABELS: Final = {
    NAME_LABEL: charts.FLAGGER.name,
    INSTANCE: FLAGGER_RELEASE,
    VERSION: charts.FLAGGER.version,
}
FLAGGER_PORT: Final = 8080
# The loadtester's pod labels (charts/loadtester/templates/deployment.yaml:17-19); it listens on 8080
# (deployment.yaml:46-51) behind a Service on port 80 (values.yaml:27-29, templates/service.yaml:12-18).
LOADTESTER_POD_LABELS: Final = {
    "app": charts.FLAGGER_LOADTESTER.name,
    NAME_LABEL: charts.FLAGGER_LOADTESTER.name,
}
LOADTESTER_PORT: Final = 8080
LOADTESTER_URL: Final = f"http://{LOADTESTER_RELEASE}.{FLAGGER_NAMESPACE}/"
# The loadtester image's user: `adduser -S app` in `addgroup -S app` on Alpine, the first system
# user and group (Dockerfile.loadtester:47-48,66), the ids the chart's own context names
# (charts/loadtester/values.yaml:87-92).
LOADTESTER_USER, LOADTESTER_GROUP = 100, 101

# --- what Flagger reads and reports -----------------------------------------------
# The stack's Prometheus: the metric server Flagger checks is online, and the MetricTemplates' address.
PROMETHEUS_URL: Final = (
    f"http://{charts.PROMETHEUS_SERVICE[0]}.{MONITORING_NAMESPACE}:{charts.PROMETHEUS_SERVICE[1]}"
)
# The last analysis's outcome per Canary: a gauge in the "flagger" subsystem
# (pkg/controller/controller.go:51,111; pkg/metrics/recorder.go:86-91) labelled with the target's
# name and the Canary's namespace; 0 while it progresses, 2 once it failed, 1 otherwise
# (recorder.go:160-171). It keeps its value until the next run, and is set again after a restart
# from the Canary's phase (pkg/controller/scheduler.go:288, 887).
CANARY_STATUS: Final = "flagger_canary_status"
STATUS_PROGRESSING, STATUS_FAILED = 0, 2
# The canary's share of the requests, labelled with the target's name as "workload" and the
# Canary's namespace (recorder.go:93-97, 173-177): above 0 only while a release is analysed.
CANARY_WEIGHT: Final = "flagger_canary_weight"
# The PodMonitor (below) leaves honorLabels off, so Prometheus keeps the target's namespace (Flagger's)
# and stores the metric's own as this (as it does ingress-nginx's: infra/ingress_contract.py).
CANARY_NAMESPACE_LABEL: Final = "exported_namespace"


def values() -> dict[str, Any]:
    """The controller's values (charts/flagger/values.yaml at v1.44.0; line numbers there)."""
    return {
        # :36 and the -mesh-provider flag: routing by a copy of the API's Ingress (pkg/router/ingress.go).
        "meshProvider": "nginx",
        # :24: Flagger checks it is online before an analysis (pkg/controller/scheduler_metrics.go:39-92).
        "metricsServer": PROMETHEUS_URL,
        # :39: the only namespace with a Canary; Flagger watches no other.
        "namespace": APP_NAMESPACE,
        # :43: the pod label Flagger builds selectors on and rewrites to "<name>-primary" for the
        # primary (pkg/canary/deployment_controller.go:246-247, 321-333); ours name every workload.
        "selectorLabels": NAME_LABEL,
        # The -include-label-prefix flag (templates/deployment.yaml:136-138): our labels are copied onto
        # the primary Deployment and its autoscaler (deployment_controller.go:244; pkg/canary/
        # hpa_reconciler.go:156-163), so Flagger's copies stay ours to select and read.
        "includeLabelPrefix": "app.kubernetes.io",
        # :46-47: with tracking, the primary would read "-primary" copies of the API's ConfigMap and
        # Secret made at each promotion (pkg/canary/config_tracker.go), which External Secrets does not
        # refresh; without it the primary reads the same ones as today (pkg/canary/nop_tracker.go).
        "configTracking": {"enabled": False},
        # :57-61: the restricted Pod Security Standard, as every container of ours.
        "securityContext": {"enabled": True, "context": container_security()},
        # :80-85: its own PodMonitor on the http port; kube-prometheus-stack picks up every PodMonitor.
        "podMonitor": {"enabled": True, "interval": "30s", "honorLabels": False},
        # :147-153 request 10m / 32 Mi and allow 1 CPU / 512 Mi; one Canary to watch needs less.
        "resources": {
            "requests": {"cpu": "10m", "memory": "64Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        },
    }


def loadtester_values() -> dict[str, Any]:
    """The loadtester's values (charts/loadtester/values.yaml at v1.44.0; line numbers there)."""
    restricted = {**container_security(), "runAsUser": LOADTESTER_USER, "runAsGroup": LOADTESTER_GROUP}
    return {
        # :18-20: a smoke check is one curl; only the app namespace's Canary may run commands
        # (pkg/loadtester/authorizer.go:35-37).
        "cmd": {"timeout": "1m", "namespaceRegexp": f"^{APP_NAMESPACE}$"},
        # :87-98: off by default; the image's own user (above), read-only root, no capabilities.
        "securityContext": {"enabled": True, "context": restricted},
        "podSecurityContext": {"enabled": True, "context": {"fsGroup": LOADTESTER_GROUP}},
        # :31-34 request only.
        "resources": {
            "requests": {"cpu": "10m", "memory": "64Mi"},
            "limits": {"cpu": "200m", "memory": "128Mi"},
        },
    }


def loadtester_policy(naming: Naming, api_pods: dict[str, str]) -> dict[str, Any]:
    """The loadtester runs any command it is sent: only Flagger may send one, and it reaches only the API.

    ``api_pods``: the labels of the pods the canary's Service selects (the API Deployment's).
    """
    # By name and release, not version: the rule outlives an upgrade.
    flagger = {key: FLAGGER_POD_LABELS[key] for key in (NAME_LABEL, INSTANCE)}
    return network_policy(
        naming,
        LOADTESTER_RELEASE,
        {"matchLabels": dict(LOADTESTER_POD_LABELS)},
        [rule([{"podSelector": {"matchLabels": flagger}}], ports(LOADTESTER_PORT), "ingress")],
        [
            rule([namespace_peer(APP_NAMESPACE, api_pods)], ports(API_PORT), "egress"),
            rule([namespace_peer("kube-system")], dns_ports(), "egress"),
        ],
        namespace=FLAGGER_NAMESPACE,
    )
