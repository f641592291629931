"""Every Helm chart the program installs, pinned to one version of one repository.

One list, so that an upgrade is reviewed in one place and the tests that
check a chart's values name the version those values were read from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from infra import ingress_contract as edge


@dataclass(frozen=True)
class Chart:
    """A Helm chart pinned to one version of one repository."""

    name: str
    version: str
    repository: str


PROMETHEUS_COMMUNITY: Final = "https://prometheus-community.github.io/helm-charts"
CLOUDNATIVE_PG_CHARTS: Final = "https://cloudnative-pg.github.io/charts"

# Ships prometheus-operator 0.93, the version of the CRD schemas we validate against.
KUBE_PROMETHEUS_STACK: Final = Chart("kube-prometheus-stack", "88.0.0", PROMETHEUS_COMMUNITY)
REDIS_EXPORTER: Final = Chart("prometheus-redis-exporter", "6.29.0", PROMETHEUS_COMMUNITY)
BLACKBOX_EXPORTER: Final = Chart("prometheus-blackbox-exporter", "11.17.2", PROMETHEUS_COMMUNITY)
# Pushgateway v1.11.3 (charts/prometheus-pushgateway/Chart.yaml:3-6 at prometheus-pushgateway-3.8.0):
# where the restore drill, a run and not a target, leaves its outcome for Prometheus to scrape.
PUSHGATEWAY: Final = Chart("prometheus-pushgateway", "3.8.0", PROMETHEUS_COMMUNITY)
# The version infra/ingress_contract.py's facts were read at: one pin for both.
INGRESS_NGINX: Final = Chart(
    "ingress-nginx", edge.CHART_VERSION, "https://kubernetes.github.io/ingress-nginx"
)
CERT_MANAGER: Final = Chart("cert-manager", "v1.19.1", "https://charts.jetstack.io")
# CloudNativePG 1.30.0: the version of the Cluster/Pooler/ScheduledBackup CRD schemas.
CLOUDNATIVE_PG: Final = Chart("cloudnative-pg", "0.29.0", CLOUDNATIVE_PG_CHARTS)
# Barman Cloud plugin v0.13.0; its ObjectStore CRD is unchanged in the v0.14 line we validate against.
BARMAN_CLOUD_PLUGIN: Final = Chart("plugin-barman-cloud", "0.7.0", CLOUDNATIVE_PG_CHARTS)
EXTERNAL_SECRETS: Final = Chart("external-secrets", "2.9.0", "https://charts.external-secrets.io")
# Flagger 1.44.0, the newest release tag of fluxcd/flagger (charts/flagger/Chart.yaml:3-4 at v1.44.0):
# the version of the Canary and MetricTemplate CRDs tests/crds/ holds and of the facts
# infra/render/flagger.py cites. The loadtester is released from the same tag
# (charts/loadtester/Chart.yaml:3-4); the repository is the one the docs add
# (docs/gitbook/install/flagger-install-on-kubernetes.md:12).
FLAGGER_CHARTS: Final = "https://flagger.app"
FLAGGER: Final = Chart("flagger", "1.44.0", FLAGGER_CHARTS)
FLAGGER_LOADTESTER: Final = Chart("loadtester", "0.38.0", FLAGGER_CHARTS)
# Loki 3.7.6 (charts/loki/Chart.yaml:6-7 at loki-18.11.0 of grafana-community/helm-charts). The chart
# in grafana/loki is kept for Grafana Enterprise Logs since 16 March 2026; OSS users are sent to
# this fork (production/helm/loki/README.md:7-8 at helm-loki-7.3.0); its repository: README.md:32.
LOKI: Final = Chart("loki", "18.11.0", "https://grafana-community.github.io/helm-charts")
# Grafana Alloy v1.18.1, the log collector on every node: chart 1.11.1, the newest helm-chart/* tag of
# grafana/alloy (operations/helm/charts/alloy/Chart.yaml:2,5-6 at helm-chart/1.11.1), from the
# repository Grafana's charts are published to.
GRAFANA_CHARTS: Final = "https://grafana.github.io/helm-charts"
ALLOY: Final = Chart("alloy", "1.11.1", GRAFANA_CHARTS)

# The Service of kube-prometheus-stack's Prometheus, which Flagger queries: "<fullname>-prometheus",
# fullname the release name when it holds the chart's name (templates/prometheus/service.yaml,
# _helpers.tpl; prometheus.service.port 9090, values.yaml:3780 at kube-prometheus-stack-88.0.0).
# The release is named after the chart (components/kube.py: helm_release).
PROMETHEUS_SERVICE: Final = (f"{KUBE_PROMETHEUS_STACK.name}-prometheus", 9090)
