"""Every connection the platform's pods need, and the pods, labelled as their makers label them.

Pure data for a NetworkPolicy analyzer that is not ours
(tests/infra/render/workloads/test_reachability.py): the app namespace's
policies (network_policies.py) must allow each connection listed here and no
other that starts or ends in the app namespace. Pods made by an operator or a
chart carry the labels that code sets, read at the version charts.py pins;
each fact names its file and line. Our own workloads' labels are the ones our
renderers put on their pod templates, so they are taken from those (``app``).
Controllers' bookkeeping labels (pod-template-hash, job-name, controller-uid)
are left out: no policy names them.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Final

from infra.app_contract import API_PORT, FRONTEND_PORT
from infra.conventions import (
    APP_NAMESPACE,
    BLACKBOX_RELEASE,
    CERT_MANAGER_NAMESPACE,
    DATABASE_CLUSTER,
    DATABASE_OPERATOR_NAMESPACE,
    INGRESS_NAMESPACE,
    MIGRATION,
    MONITORING_NAMESPACE,
    REDIS,
    REDIS_EXPORTER_RELEASE,
    REDIS_PORT,
    REDIS_TLS_PORT,
    canary_name,
    workload_name,
)
from infra.render import charts
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

# --- who: the names connections use ----------------------------------------------
API, WORKER, FRONTEND = (workload_name(s) for s in ("api", "worker", "frontend"))
CANARY = canary_name("api")
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
DNS = "coredns"
KUBE_API = "kubernetes-api"
OBJECT_STORAGE = "object-storage"
INTERNET = "llm-providers"
MANAGED_REDIS = "managed-redis"

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
# ingress-nginx 4.15.1 templates/_helpers.tpl:130-150, controller-deployment.yaml:40-42.
INGRESS_CONTROLLER_LABELS: Final = {
    "helm.sh/chart": f"ingress-nginx-{charts.INGRESS_NGINX.version}",
    NAME: charts.INGRESS_NGINX.name,
    INSTANCE: charts.INGRESS_NGINX.name,
    VERSION: "1.15.1",
    "app.kubernetes.io/part-of": charts.INGRESS_NGINX.name,
    MANAGED_BY: "Helm",
    COMPONENT: "controller",
}
# prometheus-blackbox-exporter 11.17.2 templates/_helpers.tpl:36-57, deployment.yaml:23-24.
BLACKBOX_LABELS: Final = {
    "helm.sh/chart": f"{charts.BLACKBOX_EXPORTER.name}-{charts.BLACKBOX_EXPORTER.version}",
    NAME: charts.BLACKBOX_EXPORTER.name,
    INSTANCE: BLACKBOX_RELEASE,
    VERSION: "v0.28.0",
    MANAGED_BY: "Helm",
}
# prometheus-redis-exporter 6.29.0 templates/_helpers.tpl:59-78, deployment.yaml:18-19.
REDIS_EXPORTER_LABELS: Final = {
    "helm.sh/chart": f"{charts.REDIS_EXPORTER.name}-{charts.REDIS_EXPORTER.version}",
    NAME: charts.REDIS_EXPORTER.name,
    INSTANCE: REDIS_EXPORTER_RELEASE,
    VERSION: "v1.89.0",
    MANAGED_BY: "Helm",
}
# cert-manager v1.19.1 pkg/issuer/acme/http/pod.go:36-48 (and pkg/apis/acme/v1/types.go:43-51).
ACME_SOLVER_LABEL: Final = {"acme.cert-manager.io/http01-solver": "true"}


@dataclass(frozen=True)
class Workload:
    """The pods one maker runs in one namespace, by name and labels; connections name the workload."""

    name: str
    namespace: str
    pods: tuple[tuple[str, Labels], ...]
    source: str


@dataclass(frozen=True)
class External:
    """Addresses outside the cluster's pods, as a NetworkPolicy's ipBlock names them."""

    name: str
    cidr: str
    source: str


@dataclass(frozen=True)
class Connection:
    client: str
    server: str
    ports: tuple[int, ...]
    source: str
    protocols: tuple[str, ...] = ("TCP",)


@dataclass(frozen=True)
class Stack:
    """What of a stack shapes its pods and connections."""

    domain: str
    vpc_cidr: str
    redis_in_cluster: bool
    database_instances: int
    # A recovery cluster beside the running one, named as the restore command names it.
    restore_cluster: str


@dataclass(frozen=True)
class Platform:
    workloads: tuple[Workload, ...]
    externals: tuple[External, ...]
    connections: tuple[Connection, ...]


def _one(name: str, namespace: str, labels: Labels, source: str) -> Workload:
    return Workload(name, namespace, ((f"{name}-0", dict(labels)),), source)


def database_workloads(cluster: str, instances: int, bootstrap: str) -> list[Workload]:
    """A cluster's instances and its job pods: ``bootstrap`` (initdb, full-recovery) and one join per replica.

    Instances: pkg/specs/pods.go:545-553 and the role labels of pkg/utils/labels_annotations.go:576-577;
    jobs: pkg/specs/jobs.go:359-368, named "<instance>-<role>" (jobs.go:323), roles at jobs.go:313-318.
    """
    common = {**CNPG_DATABASE, INSTANCE: cluster, VERSION: POSTGRES_MAJOR, CLUSTER_LABEL: cluster}

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
    ingress = charts.INGRESS_NGINX.name
    return [
        _one(DNS, "kube-system", {"k8s-app": "kube-dns"}, "kubernetes cluster/addons/dns/coredns"),
        _one(INGRESS_CONTROLLER, INGRESS_NAMESPACE, INGRESS_CONTROLLER_LABELS, "ingress-nginx 4.15.1"),
        # The chart's admission-webhook Jobs
        # (templates/admission-webhooks/job-patch/job-createSecret.yaml:30-32).
        _one(
            INGRESS_ADMISSION,
            INGRESS_NAMESPACE,
            {**INGRESS_CONTROLLER_LABELS, COMPONENT: "admission-webhook"},
            ingress,
        ),
        _one(PROMETHEUS, MONITORING_NAMESPACE, PROMETHEUS_LABELS, "prometheus-operator v0.93.0"),
        # pkg/alertmanager/operator.go:796-803; "<fullname>-alertmanager" (_helpers.tpl:47-53).
        _one(
            ALERTMANAGER,
            MONITORING_NAMESPACE,
            {
                NAME: "alertmanager",
                MANAGED_BY: "prometheus-operator",
                INSTANCE: f"{charts.KUBE_PROMETHEUS_STACK.name}-alertmanager",
                "alertmanager": f"{charts.KUBE_PROMETHEUS_STACK.name}-alertmanager",
            },
            "prometheus-operator v0.93.0",
        ),
        _one(BLACKBOX, MONITORING_NAMESPACE, BLACKBOX_LABELS, "prometheus-blackbox-exporter 11.17.2"),
        _one(CNPG_OPERATOR, DATABASE_OPERATOR_NAMESPACE, CNPG_OPERATOR_LABELS, "cloudnative-pg chart 0.29.0"),
        _one(BARMAN_PLUGIN, DATABASE_OPERATOR_NAMESPACE, BARMAN_PLUGIN_LABELS, "plugin-barman-cloud 0.7.0"),
        # cert-manager v1.19.1 deploy/charts/cert-manager/templates/deployment.yaml:33-38,
        # _helpers.tpl:153-158.
        _one(
            CERT_MANAGER,
            CERT_MANAGER_NAMESPACE,
            {
                "app": CERT_MANAGER,
                NAME: CERT_MANAGER,
                INSTANCE: CERT_MANAGER,
                COMPONENT: "controller",
                VERSION: charts.CERT_MANAGER.version,
                MANAGED_BY: "Helm",
                "helm.sh/chart": f"{CERT_MANAGER}-{charts.CERT_MANAGER.version}",
            },
            "cert-manager v1.19.1",
        ),
    ]


def app_namespace_workloads(stack: Stack, app: Mapping[str, Labels]) -> list[Workload]:
    """Our own pods (``app``: the name label's value -> pod template labels) and those others make here."""
    ours = [_one(name, APP_NAMESPACE, labels, "rendered by infra/render") for name, labels in app.items()]
    pooler = {
        # pkg/specs/pgbouncer/deployments.go:56-63.
        "cnpg.io/poolerName": POOLER,
        CLUSTER_LABEL: DATABASE_CLUSTER,
        POD_ROLE: "pooler",
        NAME: "postgresql",
        INSTANCE: DATABASE_CLUSTER,
        COMPONENT: "pooler",
        MANAGED_BY: "cloudnative-pg",
    }
    solver = {
        "acme.cert-manager.io/http-domain": str(zlib.adler32(stack.domain.encode())),
        "acme.cert-manager.io/http-token": str(zlib.adler32(b"token")),
        **ACME_SOLVER_LABEL,
    }
    return [
        *ours,
        _one(REDIS_EXPORTER, APP_NAMESPACE, REDIS_EXPORTER_LABELS, "prometheus-redis-exporter 6.29.0"),
        _one(POOLER, APP_NAMESPACE, pooler, "CloudNativePG 1.30.0"),
        _one(ACME_SOLVER, APP_NAMESPACE, solver, "cert-manager v1.19.1"),
        *database_workloads(DATABASE_CLUSTER, stack.database_instances, "initdb"),
        *database_workloads(stack.restore_cluster, stack.database_instances, "full-recovery"),
    ]


def externals(stack: Stack) -> list[External]:
    anywhere = "0.0.0.0/0"
    found = [
        # The master's address is the cluster's to choose; pods reach it through the kubernetes Service.
        External(KUBE_API, anywhere, "yandex-cloud/docs managed-kubernetes security-groups.md"),
        # https://storage.yandexcloud.net (infra/render/database/plan.py: S3_ENDPOINT), public addresses.
        External(OBJECT_STORAGE, anywhere, "infra/render/database/plan.py S3_ENDPOINT"),
        External(INTERNET, anywhere, "the app's LLM providers, called over HTTPS"),
    ]
    if not stack.redis_in_cluster:
        found.append(External(MANAGED_REDIS, stack.vpc_cidr, "Yandex Managed Redis in the stack's VPC"))
    return found


def platform(stack: Stack, app: Mapping[str, Labels]) -> Platform:
    workloads = [*app_namespace_workloads(stack, app), *cluster_workloads()]
    return Platform(tuple(workloads), tuple(externals(stack)), tuple(connections(stack, app)))


def connections(stack: Stack, app: Mapping[str, Labels]) -> list[Connection]:
    return [*_app(stack), *_database(stack), *_edges(), *_dns(stack, app)]


def _app(stack: Stack) -> Iterator[Connection]:
    api_pods = (API, CANARY)
    redis, redis_port = (REDIS, REDIS_PORT) if stack.redis_in_cluster else (MANAGED_REDIS, REDIS_TLS_PORT)
    for client in (*api_pods, WORKER):
        yield Connection(client, POOLER, (POSTGRES,), "SAMOKODER_DATABASE_URL names the pooler (config.py)")
        yield Connection(client, redis, (redis_port,), "REDIS_HOST/REDIS_PORT (infra/app_contract.py)")
        yield Connection(client, INTERNET, (HTTPS,), "LLM providers over HTTPS (infra/app_contract.py)")
    yield Connection(MIGRATE, POOLER, (POSTGRES,), "alembic through SAMOKODER_DATABASE_URL (migrations.py)")
    yield Connection(MIGRATE, KUBE_API, KUBE_API_PORTS, "wait_for_backup.py reads the Backup")
    yield Connection(REDIS_EXPORTER, redis, (redis_port,), "infra/render/exporters.py redisAddress")


def _database(stack: Stack) -> Iterator[Connection]:
    cluster, restore, many = DATABASE_CLUSTER, stack.restore_cluster, stack.database_instances > 1
    yield Connection(POOLER, f"{cluster}-instances", (POSTGRES,), "pgbouncer config.go:85 host=<cluster>-rw")
    # The pooler's instance manager watches its Pooler
    # (internal/pgbouncer/management/controller/manager.go:55).
    yield Connection(POOLER, KUBE_API, KUBE_API_PORTS, "pgbouncer manager.go:55")
    for name, bootstrap in ((cluster, "initdb"), (restore, "full-recovery")):
        instances = f"{name}-instances"
        # Each instance manager works through the API (internal/cmd/manager/instance/run/cmd.go:171-179);
        # initdb loads the Cluster before it runs (initdb/cmd.go:59), full-recovery runs a manager too
        # (restore/cmd.go:133), and so do the Barman Cloud sidecars in the instances and in full-recovery
        # (plugin v0.13.0 internal/cnpgi/instance/manager.go:77, restore/manager.go:40).
        for client in (instances, f"{name}-{bootstrap}"):
            yield Connection(client, KUBE_API, KUBE_API_PORTS, "CloudNativePG 1.30.0 instance manager")
        # WAL archive and base backups from the instances' sidecar; the full-recovery job's sidecar
        # restores them (plugin lifecycle.go:193-205 injects it into recovery jobs only).
        archivers = [instances] + ([f"{name}-{bootstrap}"] if bootstrap == "full-recovery" else [])
        for client in archivers:
            yield Connection(client, OBJECT_STORAGE, (HTTPS,), "barman-cloud to the ObjectStore's endpoint")
        # The operator asks every instance for its status (pkg/management/postgres/webserver/client/
        # remote/instance.go:320).
        yield Connection(CNPG_OPERATOR, instances, (INSTANCE_STATUS,), "operator -> status port")
        if many:
            # Replicas stream from the primary (<cluster>-rw); each instance's liveness probe pings the
            # others' status port (probes/pinger.go:86, on by default: api/v1/cluster_defaults.go:313).
            yield Connection(
                instances, instances, (POSTGRES, INSTANCE_STATUS), "replication, isolation check"
            )
            # A join job clones the primary with pg_basebackup (jobs.go:274, postgres/join.go:78), after
            # reading the Cluster (join/cmd.go:104-113).
            yield Connection(f"{name}-join", instances, (POSTGRES,), "pg_basebackup from <cluster>-rw")
            yield Connection(f"{name}-join", KUBE_API, KUBE_API_PORTS, "join/cmd.go:104-113")
    # The PodMonitor (infra/render/database/manifests.py) scrapes the running cluster's exporter.
    yield Connection(PROMETHEUS, f"{cluster}-instances", (INSTANCE_METRICS,), "PodMonitor, pods.go:270")
    # The operator reaches the plugin through its Service (chart templates/service.yaml, cnpg.io/pluginName).
    yield Connection(CNPG_OPERATOR, BARMAN_PLUGIN, (BARMAN_PLUGIN_PORT,), "CNPG-I over gRPC")


def _edges() -> Iterator[Connection]:
    for service in (API, CANARY):
        # The API's Ingress and the canary's (routes.py, canary.py) send /api to these pods;
        # the API's ServiceMonitor selects both Services by component (monitoring/stack.py).
        yield Connection(INGRESS_CONTROLLER, service, (API_PORT,), "ingress-nginx -> the API's Services")
        yield Connection(PROMETHEUS, service, (API_PORT,), "the API's ServiceMonitor")
    yield Connection(INGRESS_CONTROLLER, FRONTEND, (FRONTEND_PORT,), "ingress-nginx -> the site")
    # Let's Encrypt's request arrives through the controller, at the solver's Ingress.
    yield Connection(INGRESS_CONTROLLER, ACME_SOLVER, (ACME_SOLVER_PORT,), "HTTP-01 challenge")
    # The Probe's targets are the stable Services (infra/render/exporters.py probe_targets).
    yield Connection(BLACKBOX, API, (API_PORT,), "blackbox Probe: /health")
    yield Connection(BLACKBOX, FRONTEND, (FRONTEND_PORT,), "blackbox Probe: the site")
    yield Connection(PROMETHEUS, BLACKBOX, (BLACKBOX_PORT,), "the Probe's prober")
    yield Connection(PROMETHEUS, REDIS_EXPORTER, (REDIS_EXPORTER_PORT,), "the chart's ServiceMonitor")


def _dns(stack: Stack, app: Mapping[str, Labels]) -> Iterator[Connection]:
    """Every pod of the app namespace resolves names (the kubelet points resolv.conf at the cluster DNS)."""
    for workload in app_namespace_workloads(stack, app):
        yield Connection(workload.name, DNS, (DNS_PORT,), "cluster DNS", ("UDP", "TCP"))
