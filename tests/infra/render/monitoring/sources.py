"""Where every series the rules and dashboards read comes from: a catalogue of the stack's sources.

Pure data. Each source is something the stack deploys and Prometheus
scrapes (or Prometheus itself); each series names the file it was read from
at the version the stack pins. ``tests/infra/render/monitoring/test_sources.py``
parses every rule expression and panel query with a PromQL parser and fails
on a series no source here exports (the stack's own recording rules aside),
and on a label matcher the series cannot carry. The program reads none of it:
it is that test's record of the upstream facts, kept beside it.

The app's series come from ``infra/app_contract.py``: only the metrics it
marks emitted, so a rule on a metric the app never sets has no source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from infra import ingress_contract as edge
from infra.app_contract import API_METRICS_PATH, APP_COMMIT, CLIENT_METRICS, METRICS
from infra.render import flagger
from infra.render.charts import (
    BARMAN_CLOUD_PLUGIN,
    BLACKBOX_EXPORTER,
    CLOUDNATIVE_PG,
    FLAGGER,
    INGRESS_NGINX,
    KUBE_PROMETHEUS_STACK,
    PUSHGATEWAY,
    REDIS_EXPORTER,
)


@dataclass(frozen=True)
class Series:
    name: str
    # The series' own labels as stored; None: any (ALERTS carries each alert's labels).
    labels: tuple[str, ...] | None
    # Where the name (and labels) were read, at the source's pinned version.
    read: str


@dataclass(frozen=True)
class Source:
    name: str
    # The version that runs in the stack, and what pins it.
    pinned: str
    # How Prometheus gets it in this stack.
    scraped_by: str
    # Labels Prometheus adds from the target (prometheus-operator's ServiceMonitor/PodMonitor).
    target_labels: tuple[str, ...]
    series: tuple[Series, ...]
    # The monitor's honorLabels. Without it a series' own label that the target also sets
    # is stored as exported_<label> (Prometheus's scrape config, honor_labels: false).
    honor_labels: bool = False

    def stored_labels(self, series: Series) -> frozenset[str] | None:
        """The labels a series of this source carries in Prometheus; None: any."""
        if series.labels is None:
            return None
        own = {
            f"exported_{label}" if label in self.target_labels and not self.honor_labels else label
            for label in series.labels
        }
        return frozenset(own | set(self.target_labels))


def histogram(name: str, labels: tuple[str, ...], read: str) -> tuple[Series, ...]:
    """A classic histogram's three series."""
    return (
        Series(f"{name}_bucket", (*labels, "le"), read),
        Series(f"{name}_sum", labels, read),
        Series(f"{name}_count", labels, read),
    )


# What prometheus-operator 0.93 puts on every series of a ServiceMonitor's or PodMonitor's target
# (pkg/prometheus/promcfg.go: endpoint is the port's name). The app's own "endpoint" label (the
# request path) collides with it and is stored as exported_endpoint.
SERVICE_TARGET: Final = ("job", "instance", "namespace", "service", "pod", "container", "endpoint")
POD_TARGET: Final = ("job", "instance", "namespace", "pod", "container", "endpoint")

# --- the app ------------------------------------------------------------------------


def app_source(emitted: frozenset[str] | None = None) -> Source:
    """The API's own series: what the app contract marks emitted (or ``emitted``, by name), and the
    client library's process metrics."""
    series: list[Series] = []
    for metric in METRICS:
        if not (metric.emitted if emitted is None else metric.name in emitted):
            continue
        read = f"AlexeyPevz/Samokoder {metric.source} (infra/app_contract.py)"
        if metric.type == "histogram":
            series += histogram(metric.name, metric.labels, read)
        else:
            series.append(Series(metric.name, metric.labels, read))
    series += [
        Series(name, (), "prometheus_client's ProcessCollector/PlatformCollector (infra/app_contract.py)")
        for name in CLIENT_METRICS
    ]
    return Source(
        "samokoder-api",
        f"AlexeyPevz/Samokoder@{APP_COMMIT[:12]}",
        f"the API's ServiceMonitor (infra/render/monitoring/stack.py), {API_METRICS_PATH}",
        SERVICE_TARGET,
        tuple(series),
    )


# --- the edge -----------------------------------------------------------------------

_NGINX_READ = f"kubernetes/ingress-nginx controller-{edge.CONTROLLER_VERSION}"
_EDGE_LABELS = (*edge.REQUEST_LABELS, *edge.CONST_LABELS)
INGRESS_NGINX_SOURCE: Final = Source(
    "ingress-nginx",
    f"controller {edge.CONTROLLER_VERSION}, chart {INGRESS_NGINX.version}",
    "the chart's ServiceMonitor (controller.metrics.serviceMonitor.enabled, honorLabels unset)",
    SERVICE_TARGET,
    (
        Series(edge.REQUESTS, _EDGE_LABELS, f"{_NGINX_READ} {edge.SOURCES[edge.REQUESTS]}"),
        *histogram(
            edge.REQUEST_DURATION,
            _EDGE_LABELS,
            f"{_NGINX_READ} {edge.SOURCES[edge.REQUEST_DURATION]}",
        ),
    ),
)

_BLACKBOX_READ = "prometheus/blackbox_exporter v0.28.0 prober/handler.go"
BLACKBOX_SOURCE: Final = Source(
    "blackbox-exporter",
    f"v0.28.0, chart {BLACKBOX_EXPORTER.version}",
    "the Probe (infra/render/exporters.py), job BLACKBOX_JOB",
    ("job", "instance", "namespace"),
    (Series("probe_success", (), _BLACKBOX_READ),),
)

# --- Kubernetes ---------------------------------------------------------------------

_KSM = "kubernetes/kube-state-metrics v2.19.1 internal/store"
_POD = ("namespace", "pod", "uid")
KUBE_STATE_METRICS_SOURCE: Final = Source(
    "kube-state-metrics",
    f"v2.19.1 (chart 8.0.0 of kube-prometheus-stack {KUBE_PROMETHEUS_STACK.version})",
    "the chart's ServiceMonitor, honorLabels: true (kube-prometheus-stack values.yaml:2693-2702)",
    SERVICE_TARGET,
    honor_labels=True,
    series=(
        Series(
            "kube_pod_container_resource_limits",
            (*_POD, "container", "node", "resource", "unit"),
            f"{_KSM}/pod.go:168-200",
        ),
        Series("kube_pod_container_status_restarts_total", (*_POD, "container"), f"{_KSM}/pod.go:430-452"),
        # Only while the container waits, with its current reason.
        Series(
            "kube_pod_container_status_waiting_reason",
            (*_POD, "container", "reason"),
            f"{_KSM}/pod.go:555-577",
        ),
        Series(
            "kube_deployment_status_replicas_available",
            ("namespace", "deployment"),
            f"{_KSM}/deployment.go:153",
        ),
        Series("kube_deployment_spec_replicas", ("namespace", "deployment"), f"{_KSM}/deployment.go:268"),
    ),
)

# kube-prometheus-stack's kubelet ServiceMonitor (honorLabels: true) scrapes /metrics and
# /metrics/cadvisor; its cAdvisorMetricRelabelings (values.yaml:1874-1906) drop, among others,
# container_file_descriptors: descriptors are read from the app's process_* instead.
_CADVISOR = ("namespace", "pod", "container", "id", "image", "name")
KUBELET_SOURCE: Final = Source(
    "kubelet",
    "the cluster's Kubernetes 1.34 (its embedded cAdvisor)",
    f"kube-prometheus-stack {KUBE_PROMETHEUS_STACK.version}'s kubelet ServiceMonitor (honorLabels: true)",
    (*SERVICE_TARGET, "node", "metrics_path"),
    honor_labels=True,
    series=(
        Series(
            "container_cpu_usage_seconds_total", (*_CADVISOR, "cpu"), "google/cadvisor metrics/prometheus.go"
        ),
        Series("container_memory_working_set_bytes", _CADVISOR, "google/cadvisor metrics/prometheus.go"),
        *(
            Series(
                f"kubelet_volume_stats_{what}_bytes",
                ("namespace", "persistentvolumeclaim"),
                "kubernetes pkg/kubelet/metrics/collectors/volume_stats.go",
            )
            for what in ("used", "capacity")
        ),
    ),
)

# --- Redis --------------------------------------------------------------------------

_REDIS_READ = "oliver006/redis_exporter exporter/exporter.go (v1.88.0+3, cd5941f: v1.89.0 is not mirrored)"
REDIS_EXPORTER_SOURCE: Final = Source(
    "redis-exporter",
    f"v1.89.0, chart {REDIS_EXPORTER.version}",
    "the chart's ServiceMonitor (infra/render/exporters.py: serviceMonitor.enabled)",
    SERVICE_TARGET,
    (
        Series("redis_up", (), f"{_REDIS_READ}:637,715"),
        Series("redis_memory_used_bytes", (), f"{_REDIS_READ}:202 (INFO used_memory)"),
        # 0 when maxmemory is unset; the in-cluster Redis sets it (components/cluster_redis.py).
        Series("redis_memory_max_bytes", (), f"{_REDIS_READ}:218 (INFO maxmemory)"),
        Series("redis_connected_clients", (), f"{_REDIS_READ}:173"),
        Series("redis_rejected_connections_total", (), f"{_REDIS_READ}:391"),
        Series("redis_commands_processed_total", (), f"{_REDIS_READ}:389"),
        # --check-single-keys=arq:queue: ZCARD of the sorted set, db="db0"; no series while
        # the key does not exist (TYPE answers none), i.e. while the queue is empty.
        Series("redis_key_size", ("db", "key"), "oliver006/redis_exporter exporter/keys.go:54-55,76,224-226"),
    ),
)

# --- the database -------------------------------------------------------------------

_CNPG = "cloudnative-pg/cloudnative-pg v1.30.0"
_COLLECTOR = f"{_CNPG} pkg/management/postgres/webserver/metricserver/pg_collector.go"
_QUERIES = f"{_CNPG} config/manager/default-monitoring.yaml"
_BARMAN = "cloudnative-pg/plugin-barman-cloud v0.13.0 internal/cnpgi/instance/metrics.go:49-53"
DATABASE_TARGET: Final = (*POD_TARGET, "cluster")
CLOUDNATIVE_PG_SOURCE: Final = Source(
    "cloudnative-pg",
    f"1.30.0 (chart {CLOUDNATIVE_PG.version})",
    "the database's PodMonitor (infra/render/database/manifests.py), which sets cluster",
    DATABASE_TARGET,
    (
        Series("cnpg_collector_up", ("cluster",), f"{_COLLECTOR}:128-135"),
        Series("cnpg_collector_pg_wal_archive_status", ("value",), f"{_COLLECTOR}:161-166"),
        Series("cnpg_pg_stat_archiver_archived_count", (), f"{_QUERIES}:164-206"),
        Series("cnpg_pg_stat_archiver_failed_count", (), f"{_QUERIES}:164-206"),
        Series("cnpg_pg_replication_lag", (), f"{_QUERIES}:110-133"),
        Series(
            "cnpg_backends_total", ("datname", "usename", "application_name", "state"), f"{_QUERIES}:10-54"
        ),
        Series("cnpg_pg_database_size_bytes", ("datname",), f"{_QUERIES}:79-99"),
        *(
            Series(f"cnpg_pg_stat_database_{column}", ("datname",), f"{_QUERIES}:319-386")
            for column in ("xact_commit", "xact_rollback", "deadlocks")
        ),
        Series("cnpg_pg_settings_setting", ("name",), f"{_QUERIES}:446-459"),
    ),
)
BARMAN_CLOUD_SOURCE: Final = Source(
    "barman-cloud-plugin",
    f"v0.13.0 (chart {BARMAN_CLOUD_PLUGIN.version})",
    "the instances' exporter (the database's PodMonitor): CloudNativePG serves the plugin's metrics",
    DATABASE_TARGET,
    tuple(
        Series(f"barman_cloud_cloudnative_pg_io_{name}", (), _BARMAN)
        for name in (
            "first_recoverability_point",
            "last_available_backup_timestamp",
            "last_failed_backup_timestamp",
        )
    ),
)

# --- Flagger --------------------------------------------------------------------------

FLAGGER_SOURCE: Final = Source(
    "flagger",
    f"{FLAGGER.version} (chart {FLAGGER.name} {FLAGGER.version})",
    "the chart's PodMonitor (infra/render/flagger.py: podMonitor, honorLabels off)",
    POD_TARGET,
    (
        Series(
            flagger.CANARY_STATUS,
            ("name", "namespace"),
            "fluxcd/flagger v1.44.0 pkg/metrics/recorder.go:86-91, pkg/controller/controller.go:111",
        ),
        Series(
            flagger.CANARY_WEIGHT,
            ("workload", "namespace"),
            "fluxcd/flagger v1.44.0 pkg/metrics/recorder.go:93-97, 173-177",
        ),
    ),
)

# --- the Pushgateway: the restore drill's outcome ---------------------------------------

_DRILL = "infra/render/workloads/drill.py drill_metrics (pushed by samokoder-infra restore-drill)"
PUSHGATEWAY_SOURCE: Final = Source(
    "pushgateway",
    f"v1.11.3 (chart {PUSHGATEWAY.name} {PUSHGATEWAY.version})",
    "the chart's ServiceMonitor (infra/render/exporters.py: honorLabels on, values.yaml:351)",
    SERVICE_TARGET,
    tuple(
        # The grouping key's labels (job, stack, and archive for an archive that is not the running
        # cluster's first: drill.push_path) and the instance the Pushgateway adds, empty.
        Series(name, ("job", "instance", "stack", "archive"), _DRILL)
        for name in (
            "samokoder_restore_drill_last_success_timestamp_seconds",
            "samokoder_restore_drill_restore_seconds",
            "samokoder_restore_drill_success",
        )
    ),
    honor_labels=True,
)

# --- Prometheus itself --------------------------------------------------------------

PROMETHEUS_SOURCE: Final = Source(
    "prometheus",
    f"v3.13.1 (kube-prometheus-stack {KUBE_PROMETHEUS_STACK.version} values.yaml:4346-4347)",
    "itself: a series per scrape target, a series per pending or firing alert",
    (),
    (
        # Every target's labels (scrape/target.go), whatever the target.
        Series("up", None, "prometheus/prometheus scrape/scrape.go (scrapeHealthMetricName)"),
        Series("ALERTS", None, "prometheus/prometheus rules/alerting.go (alertMetricName)"),
    ),
)


def catalogue(app_emitted: frozenset[str] | None = None) -> tuple[Source, ...]:
    """Every source the stack deploys whose series a rule or panel may read."""
    return (
        app_source(app_emitted),
        INGRESS_NGINX_SOURCE,
        BLACKBOX_SOURCE,
        KUBE_STATE_METRICS_SOURCE,
        KUBELET_SOURCE,
        REDIS_EXPORTER_SOURCE,
        CLOUDNATIVE_PG_SOURCE,
        BARMAN_CLOUD_SOURCE,
        FLAGGER_SOURCE,
        PUSHGATEWAY_SOURCE,
        PROMETHEUS_SOURCE,
    )
