"""Every connection the platform's pods need: who calls whom, on which ports, and the source that says so.

Pure data for a NetworkPolicy analyzer that is not ours
(tests/infra/render/workloads/test_reachability.py): the app namespace's
policies (network_policies.py) must allow each connection listed here and no
other that starts or ends in the app namespace. The pods are upstream_pods.py's
(labelled as their makers label them) and ours, labelled as our renderers
label them (``app``: the name label's value -> the pod template's labels).
Upstream sources are at the versions infra/render/charts.py pins:
CloudNativePG 1.30.0 ("cnpg"), plugin-barman-cloud v0.13.0 ("barman"),
cert-manager v1.19.1, ingress-nginx 4.15.1, kube-prometheus-stack 88.0.0,
Flagger 1.44.0 and its loadtester ("flagger"), Loki 18.11.0, Grafana Alloy 1.11.1 (the log
collector); the NetworkPolicies of Loki and the collector in the monitoring namespace
(infra/render/logs.py, infra/render/log_collector.py) are judged the same way.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from infra.app_contract import API_PORT, FRONTEND_PORT
from infra.conventions import APP_NAMESPACE, DATABASE_CLUSTER, LOKI_SERVICE, REDIS, REDIS_PORT
from infra.render import charts, flagger
from infra.render.database import plan as db
from infra.render.workloads import drill, rehearsal
from infra.render.workloads import upstream_pods as up
from infra.render.workloads.upstream_pods import Labels, Workload

KUBE_API = "kubernetes-api"
OBJECT_STORAGE = "object-storage"
INTERNET = "llm-providers"
ANYWHERE = "0.0.0.0/0"
CNPG = "cnpg"
BARMAN = "barman"
FLAGGER = "flagger"


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
    database_instances: int
    # A recovery cluster beside the running one, named as the restore command names it.
    restore_cluster: str
    # The migration rehearsal's copy, named after a release's revision (rehearsal.copy_name), and the
    # restore drill's (drill.copy_name): both may run at once, each reached by its own Job alone.
    rehearsal_copy: str
    drill_copy: str
    # The app was cut over to the recovery cluster (samokoder:cut_over): it reaches that cluster's pooler.
    serving_restore: bool = False

    @property
    def pooler(self) -> str:
        """The pooler the app's pods connect to."""
        return db.pooler_name(self.restore_cluster) if self.serving_restore else up.POOLER


@dataclass(frozen=True)
class Platform:
    workloads: tuple[Workload, ...]
    externals: tuple[External, ...]
    connections: tuple[Connection, ...]


def app_namespace_workloads(stack: Stack, app: Mapping[str, Labels]) -> list[Workload]:
    ours = [
        Workload(name, APP_NAMESPACE, ((f"{name}-0", labels),), "infra/render")
        for name, labels in app.items()
    ]
    copies = ((stack.rehearsal_copy, rehearsal.COPY), (stack.drill_copy, drill.COPY))
    return [
        *ours,
        *up.app_namespace_workloads(
            stack.domain,
            stack.database_instances,
            stack.restore_cluster,
            copies,
            serving_restore=stack.serving_restore,
        ),
    ]


def externals() -> list[External]:
    return [
        # Pods reach the master's address through the kubernetes Service; it is the cloud's to choose.
        External(
            KUBE_API, ANYWHERE, "yandex-cloud/docs managed-kubernetes/operations/connect/security-groups.md"
        ),
        # https://storage.yandexcloud.net: public addresses.
        External(OBJECT_STORAGE, ANYWHERE, "infra/render/database/plan.py S3_ENDPOINT"),
        External(INTERNET, ANYWHERE, "DESIGN.md: the app calls its LLM providers over HTTPS"),
    ]


def platform(stack: Stack, app: Mapping[str, Labels]) -> Platform:
    workloads = [*app_namespace_workloads(stack, app), *up.cluster_workloads()]
    return Platform(tuple(workloads), tuple(externals()), tuple(connections(stack, app)))


def connections(stack: Stack, app: Mapping[str, Labels]) -> list[Connection]:
    return [*_app(stack.pooler), *_database(stack), *_edges(), *_release(), *_logs(), *_dns(stack, app)]


def _app(pooler: str) -> Iterator[Connection]:
    """The app's pods; ``pooler``: the one in front of the cluster that serves them (DATABASE_HOST)."""
    for client in (up.API, up.API_PRIMARY, up.WORKER):
        yield Connection(
            client, pooler, (up.POSTGRES,), "SAMOKODER_DATABASE_URL: infra/render/secrets/catalog.py"
        )
        yield Connection(
            client, REDIS, (REDIS_PORT,), "REDIS_HOST, REDIS_PORT: infra/app_contract.py:120-124"
        )
        yield Connection(client, INTERNET, (up.HTTPS,), "the LLM providers (infra/app_contract.py:106)")
    yield Connection(up.MIGRATE, pooler, (up.POSTGRES,), "alembic: infra/render/workloads/migrations.py")
    yield Connection(up.MIGRATE, KUBE_API, up.KUBE_API_PORTS, "infra/render/workloads/wait_for_backup.py:31")
    yield Connection(up.REDIS_EXPORTER, REDIS, (REDIS_PORT,), "redisAddress: infra/render/exporters.py")


def _cluster(name: str, bootstrap: str, many: bool) -> Iterator[Connection]:
    """One CloudNativePG cluster's own connections: the API, Object Storage, replication."""
    instances, first_job = f"{name}-instances", f"{name}-{bootstrap}"
    api = up.KUBE_API_PORTS
    yield Connection(instances, KUBE_API, api, f"{CNPG} internal/cmd/manager/instance/run/cmd.go:171-179")
    # The Barman Cloud sidecar in each instance (barman internal/cnpgi/operator/lifecycle.go:309) reads
    # its ObjectStore (instance/manager.go:77) and archives WAL and base backups.
    yield Connection(
        instances, OBJECT_STORAGE, (up.HTTPS,), f"{BARMAN} internal/cnpgi/instance/manager.go:77"
    )
    yield from _first_job(first_job, bootstrap)
    operator_calls = f"{CNPG} pkg/management/postgres/webserver/client/remote/instance.go:320"
    yield Connection(up.CNPG_OPERATOR, instances, (up.INSTANCE_STATUS,), operator_calls)
    if many:
        # Replicas stream from <cluster>-rw; each liveness probe pings the others' status port
        # (probes/pinger.go:86), on by default (api/v1/cluster_defaults.go:313).
        replication = f"{CNPG} pkg/management/postgres/join.go:95, webserver/probes/pinger.go:86"
        yield Connection(instances, instances, (up.POSTGRES, up.INSTANCE_STATUS), replication)
        # A new replica's job reads the Cluster (join/cmd.go:104-113), then clones <cluster>-rw
        # (pkg/specs/jobs.go:274, pkg/management/postgres/join.go:78).
        yield Connection(
            f"{name}-join", instances, (up.POSTGRES,), f"{CNPG} pkg/management/postgres/join.go:78"
        )
        yield Connection(
            f"{name}-join", KUBE_API, api, f"{CNPG} internal/cmd/manager/instance/join/cmd.go:104"
        )


def _first_job(job: str, bootstrap: str) -> Iterator[Connection]:
    """What a cluster's first instance's job needs: initdb the API, a recovery Object Storage too."""
    api = up.KUBE_API_PORTS
    if bootstrap == "initdb":
        yield Connection(job, KUBE_API, api, f"{CNPG} internal/cmd/manager/instance/initdb/cmd.go:59")
    else:
        yield Connection(job, KUBE_API, api, f"{CNPG} internal/cmd/manager/instance/restore/cmd.go:133")
        # The plugin puts its sidecar in recovery jobs only (lifecycle.go:193-205); it restores from there.
        yield Connection(job, OBJECT_STORAGE, (up.HTTPS,), f"{BARMAN} internal/cnpgi/restore/manager.go:40")


def _database(stack: Stack) -> Iterator[Connection]:
    many = stack.database_instances > 1
    yield from _cluster(DATABASE_CLUSTER, "initdb", many)
    # A rebuild (database.recover_from) starts the running cluster by recovery instead.
    yield from _first_job(f"{DATABASE_CLUSTER}-full-recovery", "full-recovery")
    yield from _cluster(stack.restore_cluster, "full-recovery", many)
    yield from _cluster(stack.rehearsal_copy, "full-recovery", False)
    copy = "REHEARSAL_HOST: infra/render/workloads/rehearsal.py"
    yield Connection(rehearsal.REHEARSAL, f"{stack.rehearsal_copy}-instances", (up.POSTGRES,), copy)
    # The restore drill's copy (rehearsal.copy_cluster under the drill's copy label) and its check Job.
    yield from _cluster(stack.drill_copy, "full-recovery", False)
    checked = "PGHOST: infra/render/workloads/drill.py check_job"
    yield Connection(drill.DRILL, f"{stack.drill_copy}-instances", (up.POSTGRES,), checked)
    pooled = f"{CNPG} pkg/management/pgbouncer/config/config.go:85"
    yield Connection(up.POOLER, f"{DATABASE_CLUSTER}-instances", (up.POSTGRES,), pooled)
    watch = f"{CNPG} internal/pgbouncer/management/controller/manager.go:55"
    yield Connection(up.POOLER, KUBE_API, up.KUBE_API_PORTS, watch)
    # The database's PodMonitor (infra/render/database/manifests.py) selects the running cluster's instances.
    scrape = f"{CNPG} pkg/specs/pods.go:268-272 (metrics)"
    yield Connection(up.PROMETHEUS, f"{DATABASE_CLUSTER}-instances", (up.INSTANCE_METRICS,), scrape)
    if stack.serving_restore:
        # After a cut-over the recovery cluster has a pooler and a PodMonitor of its own
        # (components/database.py); the running cluster stays scraped until it is retired.
        restored = f"{stack.restore_cluster}-instances"
        yield Connection(stack.pooler, restored, (up.POSTGRES,), pooled)
        yield Connection(stack.pooler, KUBE_API, up.KUBE_API_PORTS, watch)
        yield Connection(up.PROMETHEUS, restored, (up.INSTANCE_METRICS,), scrape)
    # Outside the app namespace: the operator calls the plugin through its Service.
    plugin = "plugin-barman-cloud chart 0.7.0 templates/service.yaml, deployment.yaml:75"
    yield Connection(up.CNPG_OPERATOR, up.BARMAN_PLUGIN, (up.BARMAN_PLUGIN_PORT,), plugin)


def _edges() -> Iterator[Connection]:
    for service in (up.API, up.API_PRIMARY):
        # The API's Ingress sends /api to the promoted pods (through the apex Service), Flagger's copy
        # of it the canary's share to the release's; the API's ServiceMonitor selects the primary's and
        # the canary's Services by component (infra/render/workloads/canary.py: service_labels).
        routed = "infra/render/workloads/routes.py, flagger_made.py"
        yield Connection(up.INGRESS_CONTROLLER, service, (API_PORT,), routed)
        yield Connection(
            up.PROMETHEUS, service, (API_PORT,), "infra/render/monitoring/stack.py ServiceMonitor"
        )
    yield Connection(up.INGRESS_CONTROLLER, up.FRONTEND, (FRONTEND_PORT,), "infra/render/workloads/routes.py")
    # Let's Encrypt's request arrives through the controller, at the solver's Ingress.
    solver = "cert-manager pkg/issuer/acme/http/http.go:49, ingress.go"
    yield Connection(up.INGRESS_CONTROLLER, up.ACME_SOLVER, (up.ACME_SOLVER_PORT,), solver)
    # The Probe's targets are the Services users reach: the API's apex selects the promoted pods.
    probe = "infra/render/exporters.py probe_targets"
    yield Connection(up.BLACKBOX, up.API_PRIMARY, (API_PORT,), probe)
    yield Connection(up.BLACKBOX, up.FRONTEND, (FRONTEND_PORT,), probe)
    yield Connection(
        up.PROMETHEUS, up.BLACKBOX, (up.BLACKBOX_PORT,), "infra/render/exporters.py Probe prober"
    )
    exporter = "prometheus-redis-exporter 6.29.0 templates/deployment.yaml:56, servicemonitor.yaml"
    yield Connection(up.PROMETHEUS, up.REDIS_EXPORTER, (up.REDIS_EXPORTER_PORT,), exporter)


def _release() -> Iterator[Connection]:
    """Flagger watches and writes through the API, reads Prometheus and calls its loadtester's webhook."""
    yield Connection(
        up.FLAGGER, KUBE_API, up.KUBE_API_PORTS, f"{FLAGGER} cmd/flagger/main.go:153 (in-cluster)"
    )
    # prometheus-operator's Prometheus serves its web port, the Service's (infra/render/charts.py).
    yield Connection(
        up.FLAGGER, up.PROMETHEUS, (charts.PROMETHEUS_SERVICE[1],), "infra/render/flagger.py PROMETHEUS_URL"
    )
    yield Connection(
        up.FLAGGER, up.LOADTESTER, (flagger.LOADTESTER_PORT,), "the Canary's pre-rollout webhook"
    )
    yield Connection(
        up.PROMETHEUS, up.FLAGGER, (flagger.FLAGGER_PORT,), "flagger chart templates/podmonitor.yaml"
    )
    # The smoke check: the loadtester's curl to the canary's Service, which selects the release's pods.
    smoke = "infra/render/workloads/canary.py smoke_check"
    yield Connection(up.LOADTESTER, up.API, (API_PORT,), smoke)
    yield Connection(up.LOADTESTER, up.DNS, (up.DNS_PORT,), smoke, ("UDP", "TCP"))


def _logs() -> Iterator[Connection]:
    """The collector on each node lists its node's pods through the API and pushes their logs to Loki;
    Grafana reads Loki; Loki writes to its bucket and alerts."""
    config = "infra/render/alloy_config.py"
    yield Connection(up.LOG_COLLECTOR, KUBE_API, up.KUBE_API_PORTS, f"{config} discovery.kubernetes")
    yield Connection(up.LOG_COLLECTOR, up.LOKI, (LOKI_SERVICE[1],), f"{config} loki.write")
    yield Connection(up.LOG_COLLECTOR, up.DNS, (up.DNS_PORT,), "loki.write's Service name", ("UDP", "TCP"))
    datasource = "infra/render/monitoring/stack.py loki_data_source"
    yield Connection(up.GRAFANA, up.LOKI, (up.LOKI_PORT,), datasource)
    yield Connection(up.LOKI, OBJECT_STORAGE, (up.HTTPS,), "infra/render/logs.py storage (S3_ENDPOINT)")
    ruler = "infra/render/logs.py ALERTMANAGER_URL"
    yield Connection(up.LOKI, up.ALERTMANAGER, (up.ALERTMANAGER_PORT,), ruler)
    yield Connection(up.LOKI, up.DNS, (up.DNS_PORT,), "kube-dns (ClusterFirst)", ("UDP", "TCP"))


def _dns(stack: Stack, app: Mapping[str, Labels]) -> Iterator[Connection]:
    """Every pod of the app namespace resolves names: the kubelet points resolv.conf at the cluster DNS."""
    for workload in app_namespace_workloads(stack, app):
        yield Connection(workload.name, up.DNS, (up.DNS_PORT,), "kube-dns (ClusterFirst)", ("UDP", "TCP"))
