"""Pods the platform runs beside ours, labelled as their makers label them, and the ports servers listen on.

CloudNativePG's instances, jobs and pooler, cert-manager's HTTP-01 solver,
the charts' pods (ingress-nginx, kube-prometheus-stack's Prometheus, the
exporters, the operators): each label set is the one that maker's code or
templates set, read at the version infra/render/charts.py pins, and names its
file and line. The NetworkPolicies (network_policies.py) select these pods by
some of these labels; reachability.py lists who calls whom, and a
NetworkPolicy analyzer is given the full sets. Controllers' bookkeeping labels
(pod-template-hash, job-name, controller-uid) are left out: no policy names
them.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from infra.conventions import (
    APP_NAMESPACE,
    BLACKBOX_RELEASE,
    CERT_MANAGER_NAMESPACE,
    DATABASE_CLUSTER,
    DATABASE_OPERATOR_NAMESPACE,
    FLAGGER_NAMESPACE,
    INGRESS_NAMESPACE,
    LOG_COLLECTOR_RELEASE,
    LOKI_RELEASE,
    LOKI_SERVICE,
    MIGRATION,
    MONITORING_NAMESPACE,
    REDIS_EXPORTER_RELEASE,
    primary_name,
    workload_name,
)
from infra.render import charts, flagger, log_collector
from infra.render.database import plan as db

Labels = Mapping[str, str]

# --- ports, as the servers listen --------------------------------------------------
# CloudNativePG 1.30.0: PostgreSQL (pkg/postgres/configuration.go:247), the instance
# manager's status server (pkg/management/url/url.go:79) and exporter (url.go:34);
# PgBouncer listens on 5432 too (pkg/management/pgbouncer/config/config.go:79).
POSTGRES: Final = 5432
INSTANCE_STATUS: Final = 8000
INSTANCE_METRICS: Final = 9187
# The Barman Cloud plugin's gRPC server (plugin-barman-cloud chart 0.7.0, templates/deployment.yaml:75).
BARMAN_PLUGIN_PORT: Final = 9090
# cert-manager v1.19.1 pkg/issuer/acme/http/http.go:49 (acmeSolverListenPort).
ACME_SOLVER_PORT: Final = 8089
# prometheus-redis-exporter 6.29.0 templates/deployment.yaml:56; the blackbox exporter's 9115
# (prometheus-blackbox-exporter 11.17.2 values.yaml, the Probe's prober address).
REDIS_EXPORTER_PORT: Final = 9121
BLACKBOX_PORT: Final = 9115
HTTPS: Final = 443
# Yandex Managed Kubernetes' master serves the API on 443 and 6443 (yandex-cloud/docs
# en/managed-kubernetes/operations/connect/security-groups.md, "rules-master").
KUBE_API_PORTS: Final = (443, 6443)
DNS_PORT: Final = 53
# Loki's HTTP port (infra/conventions.py LOKI_SERVICE); Alertmanager's web port, its Service's
# (kube-prometheus-stack 88.0.0 values.yaml:838, prometheus-operator's container port 9093).
LOKI_PORT: Final = LOKI_SERVICE[1]
ALERTMANAGER_PORT: Final = 9093

# --- who: the names connections use ----------------------------------------------
# The API's pods: its Deployment's (Flagger's target, the release under analysis: zero pods
# between releases) and the promoted ones Flagger runs from its copy (infra/render/workloads/
# flagger_made.py), which serve every request the canary does not.
API, WORKER, FRONTEND = (workload_name(s) for s in ("api", "worker", "frontend"))
API_PRIMARY = primary_name("api")
MIGRATE = MIGRATION
REDIS_EXPORTER = REDIS_EXPORTER_RELEASE
POOLER = db.POOLER
ACME_SOLVER = "acme-http01-solver"
INGRESS_CONTROLLER = "ingress-nginx-controller"
INGRESS_ADMISSION = "ingress-nginx-admission-create"
PROMETHEUS = "prometheus"
ALERTMANAGER = "alertmanager"
BLACKBOX = BLACKBOX_RELEASE
CNPG_OPERATOR = "cloudnative-pg"
BARMAN_PLUGIN = "plugin-barman-cloud"
CERT_MANAGER = "cert-manager"
FLAGGER = flagger.FLAGGER_RELEASE
LOADTESTER = flagger.LOADTESTER_RELEASE
DNS = "coredns"
LOKI = LOKI_RELEASE
GRAFANA = "grafana"
LOG_COLLECTOR = LOG_COLLECTOR_RELEASE

# --- labels the makers set ---------------------------------------------------------
NAME, INSTANCE, COMPONENT = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
)
MANAGED_BY, VERSION = "app.kubernetes.io/managed-by", "app.kubernetes.io/version"
CLUSTER_LABEL, POD_ROLE, JOB_ROLE = "cnpg.io/cluster", "cnpg.io/podRole", "cnpg.io/jobRole"
# CloudNativePG 1.30.0 pkg/utils/labels_annotations.go:45-55 (ManagerName, AppName, component names).
CNPG_DATABASE: Final = {NAME: "postgresql", COMPONENT: "database", MANAGED_BY: "cloudnative-pg"}
POSTGRES_MAJOR: Final = "15"  # app.kubernetes.io/version: the image's major (plan.POSTGRES_IMAGE)
# The operator's and the plugin's pods: each chart's selectorLabels (cloudnative-pg 0.29.0 and
# plugin-barman-cloud 0.7.0, templates/_helpers.tpl:59-62, templates/deployment.yaml:49-50 / :41-42).
CNPG_OPERATOR_LABELS: Final = {NAME: charts.CLOUDNATIVE_PG.name, INSTANCE: charts.CLOUDNATIVE_PG.name}
BARMAN_PLUGIN_LABELS: Final = {
    NAME: charts.BARMAN_CLOUD_PLUGIN.name,
    INSTANCE: charts.BARMAN_CLOUD_PLUGIN.name,
}
# prometheus-operator v0.93.0 pkg/prometheus/server/operator.go:1696-1703 and statefulset.go:223-226;
# the Prometheus is "<fullname>-prometheus" (kube-prometheus-stack 88.0.0 _helpers.tpl:38-44).
PROMETHEUS_NAME: Final = charts.PROMETHEUS_SERVICE[0]
PROMETHEUS_LABELS: Final = {
    MANAGED_BY: "prometheus-operator",
    NAME: "prometheus",
    INSTANCE: PROMETHEUS_NAME,
    "operator.prometheus.io/name": PROMETHEUS_NAME,
    "prometheus": PROMETHEUS_NAME,
    "operator.prometheus.io/shard": "0",
}


def _helm(chart: charts.Chart, release: str, version: str, **more: str) -> dict[str, str]:
    """The standard labels a chart's helpers set, the chart's own name as the name label."""
    standard = {"helm.sh/chart": f"{chart.name}-{chart.version}", NAME: chart.name, INSTANCE: release}
    return {**standard, VERSION: version, MANAGED_BY: "Helm", **more}


# ingress-nginx 4.15.1 templates/_helpers.tpl:130-150, controller-deployment.yaml:40-42.
INGRESS_CONTROLLER_LABELS: Final = _helm(
    charts.INGRESS_NGINX,
    charts.INGRESS_NGINX.name,
    "1.15.1",
    **{"app.kubernetes.io/part-of": charts.INGRESS_NGINX.name, COMPONENT: "controller"},
)
# prometheus-blackbox-exporter 11.17.2 templates/_helpers.tpl:36-57, deployment.yaml:23-24.
BLACKBOX_LABELS: Final = _helm(charts.BLACKBOX_EXPORTER, BLACKBOX_RELEASE, "v0.28.0")
# prometheus-redis-exporter 6.29.0 templates/_helpers.tpl:59-78, deployment.yaml:18-19.
REDIS_EXPORTER_LABELS: Final = _helm(charts.REDIS_EXPORTER, REDIS_EXPORTER_RELEASE, "v1.89.0")
# Loki's single binary: loki.labels and its target (loki 18.11.0 templates/_pod.tpl:22-24,
# _helpers.tpl:139-156); no managed-by label.
LOKI_LABELS: Final = {
    "helm.sh/chart": f"{charts.LOKI.name}-{charts.LOKI.version}",
    NAME: charts.LOKI.name,
    INSTANCE: LOKI_RELEASE,
    VERSION: "3.7.6",
    COMPONENT: "single-binary",
}
# kube-prometheus-stack 88.0.0's Grafana: grafana 12.10.0 templates/_helpers.tpl:67-84, Chart.yaml:5.
GRAFANA_LABELS: Final = {
    "helm.sh/chart": "grafana-12.10.0",
    NAME: "grafana",
    INSTANCE: charts.KUBE_PROMETHEUS_STACK.name,
    VERSION: "13.1.1",
}
# Grafana Alloy's pods: the chart's selector labels and no other (alloy chart 1.11.1
# templates/controllers/_pod.yaml:12-16, _helpers.tpl:70-73; values.yaml:334-335 adds none).
LOG_COLLECTOR_LABELS: Final = dict(log_collector.POD_LABELS)
# cert-manager v1.19.1 pkg/issuer/acme/http/pod.go:36-48 (and pkg/apis/acme/v1/types.go:43-51).
ACME_SOLVER_LABEL: Final = {"acme.cert-manager.io/http01-solver": "true"}


@dataclass(frozen=True)
class Workload:
    """The pods one maker runs in one namespace, by name and labels; connections name the workload."""

    name: str
    namespace: str
    pods: tuple[tuple[str, Labels], ...]
    source: str


def _one(name: str, namespace: str, labels: Labels, source: str) -> Workload:
    return Workload(name, namespace, ((f"{name}-0", dict(labels)),), source)


def database_workloads(
    cluster: str, instances: int, bootstrap: str, inherited: Labels | None = None
) -> list[Workload]:
    """A cluster's instances and its job pods: ``bootstrap`` (initdb, full-recovery) and one join per replica.

    Instances: pkg/specs/pods.go:545-553 and the role labels of pkg/utils/labels_annotations.go:576-577;
    jobs: pkg/specs/jobs.go:359-368, named "<instance>-<role>" (jobs.go:323), roles at jobs.go:313-318.
    """
    common = {**CNPG_DATABASE, INSTANCE: cluster, VERSION: POSTGRES_MAJOR, CLUSTER_LABEL: cluster}
    # The Cluster's inheritedMetadata labels (internal/controller/cluster_create.go:1309-1312,1586-1587).
    common |= inherited or {}

    def instance(serial: int) -> tuple[str, Labels]:
        name, role = f"{cluster}-{serial}", "primary" if serial == 1 else "replica"
        labels = {**common, "cnpg.io/instanceName": name, POD_ROLE: "instance"}
        return name, {**labels, "role": role, "cnpg.io/instanceRole": role}

    def job(serial: int, role: str) -> tuple[str, Labels]:
        name = f"{cluster}-{serial}"
        return f"{name}-{role}-x", {**common, "cnpg.io/instanceName": name, JOB_ROLE: role}

    source = "CloudNativePG 1.30.0 pkg/specs/pods.go:545-553, jobs.go:359-368"
    found = [
        Workload(
            f"{cluster}-instances", APP_NAMESPACE, tuple(map(instance, range(1, instances + 1))), source
        ),
        Workload(f"{cluster}-{bootstrap}", APP_NAMESPACE, (job(1, bootstrap),), source),
    ]
    if instances > 1:
        joins = tuple(job(serial, "join") for serial in range(2, instances + 1))
        found.append(Workload(f"{cluster}-join", APP_NAMESPACE, joins, source))
    return found


def cluster_workloads() -> list[Workload]:
    """Pods of the charts and operators outside the app namespace that policies name or must keep out."""
    operator = "prometheus-operator v0.93.0"
    # pkg/alertmanager/operator.go:796-803; "<fullname>-alertmanager" (_helpers.tpl:47-53).
    alertmanager = f"{charts.KUBE_PROMETHEUS_STACK.name}-alertmanager"
    alertmanager_labels = {NAME: "alertmanager", MANAGED_BY: "prometheus-operator"}
    alertmanager_labels |= {INSTANCE: alertmanager, "alertmanager": alertmanager}
    # cert-manager v1.19.1 deploy/charts/cert-manager/templates/deployment.yaml:33-38,
    # _helpers.tpl:153-158.
    cert_manager = _helm(charts.CERT_MANAGER, CERT_MANAGER, charts.CERT_MANAGER.version, app=CERT_MANAGER)
    cert_manager[COMPONENT] = "controller"
    ours = "(infra/render/flagger.py)"
    # The ingress chart's admission-webhook Jobs
    # (templates/admission-webhooks/job-patch/job-createSecret.yaml:30-32).
    admission = {**INGRESS_CONTROLLER_LABELS, COMPONENT: "admission-webhook"}
    rows: list[tuple[str, str, Labels, str]] = [
        (DNS, "kube-system", {"k8s-app": "kube-dns"}, "kubernetes cluster/addons/dns/coredns"),
        (INGRESS_CONTROLLER, INGRESS_NAMESPACE, INGRESS_CONTROLLER_LABELS, "ingress-nginx 4.15.1"),
        (INGRESS_ADMISSION, INGRESS_NAMESPACE, admission, charts.INGRESS_NGINX.name),
        (PROMETHEUS, MONITORING_NAMESPACE, PROMETHEUS_LABELS, operator),
        (ALERTMANAGER, MONITORING_NAMESPACE, alertmanager_labels, operator),
        (BLACKBOX, MONITORING_NAMESPACE, BLACKBOX_LABELS, "prometheus-blackbox-exporter 11.17.2"),
        (CNPG_OPERATOR, DATABASE_OPERATOR_NAMESPACE, CNPG_OPERATOR_LABELS, "cloudnative-pg chart 0.29.0"),
        (BARMAN_PLUGIN, DATABASE_OPERATOR_NAMESPACE, BARMAN_PLUGIN_LABELS, "plugin-barman-cloud 0.7.0"),
        (CERT_MANAGER, CERT_MANAGER_NAMESPACE, cert_manager, "cert-manager v1.19.1"),
        (FLAGGER, FLAGGER_NAMESPACE, flagger.FLAGGER_POD_LABELS, f"flagger 1.44.0 {ours}"),
        (LOADTESTER, FLAGGER_NAMESPACE, flagger.LOADTESTER_POD_LABELS, f"flagger loadtester 0.38.0 {ours}"),
        (LOKI, MONITORING_NAMESPACE, LOKI_LABELS, f"loki {charts.LOKI.version}"),
        (GRAFANA, MONITORING_NAMESPACE, GRAFANA_LABELS, "grafana 12.10.0 (kube-prometheus-stack 88.0.0)"),
        (LOG_COLLECTOR, MONITORING_NAMESPACE, LOG_COLLECTOR_LABELS, "alloy chart 1.11.1"),
    ]
    return [_one(*row) for row in rows]


def pooler_labels(cluster: str) -> dict[str, str]:
    """The labels of the pods of the Pooler in front of ``cluster``.

    CloudNativePG 1.30.0 pkg/specs/pgbouncer/deployments.go:56-63.
    """
    return {
        "cnpg.io/poolerName": db.pooler_name(cluster),
        CLUSTER_LABEL: cluster,
        POD_ROLE: "pooler",
        NAME: "postgresql",
        INSTANCE: cluster,
        COMPONENT: "pooler",
        MANAGED_BY: "cloudnative-pg",
    }


def app_namespace_workloads(
    domain: str,
    instances: int,
    restore_cluster: str,
    copies: Sequence[tuple[str, Labels]],
    *,
    serving_restore: bool = False,
) -> list[Workload]:
    """The pods others make in the app namespace: the exporter, the poolers, the solver, the databases'.

    ``serving_restore``: the app was cut over to the restored cluster, which has a pooler of its own.
    """
    pooler = pooler_labels(DATABASE_CLUSTER)
    restored = db.pooler_name(restore_cluster)
    serving = [_one(restored, APP_NAMESPACE, pooler_labels(restore_cluster), "CloudNativePG 1.30.0")]
    # The hashes of the challenge's domain and token (pod.go:37-38); the token is the CA's to choose.
    solver = {
        "acme.cert-manager.io/http-domain": str(zlib.adler32(domain.encode())),
        "acme.cert-manager.io/http-token": str(zlib.adler32(b"token")),
        **ACME_SOLVER_LABEL,
    }
    return [
        _one(REDIS_EXPORTER, APP_NAMESPACE, REDIS_EXPORTER_LABELS, "prometheus-redis-exporter 6.29.0"),
        _one(POOLER, APP_NAMESPACE, pooler, "CloudNativePG 1.30.0"),
        *(serving if serving_restore else []),
        _one(ACME_SOLVER, APP_NAMESPACE, solver, "cert-manager v1.19.1"),
        *database_workloads(DATABASE_CLUSTER, instances, "initdb"),
        # A rebuild's first job (database.recover_from): the same cluster's, by recovery.
        database_workloads(DATABASE_CLUSTER, 1, "full-recovery")[1],
        *database_workloads(restore_cluster, instances, "full-recovery"),
        # The migration rehearsal's and the restore drill's copies, each labelled with its kind: one
        # instance (infra/render/workloads/rehearsal.py copy_cluster).
        *(w for name, kind in copies for w in database_workloads(name, 1, "full-recovery", kind)),
    ]
