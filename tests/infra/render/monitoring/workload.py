"""Synthetic series for promtool unit tests: the platform's state, phase by phase.

A scenario is a list of phases; each phase holds the platform in one state
(``Load``) for some minutes. From that, every series the rules read is
written in promtool's expanding notation: counters integrate their rates
across phases, gauges hold their value, and a series the state says is not
exported is missing (``_``).

The series have the shapes their sources really give them: the app's
histogram with its own buckets in the Python client's spelling, counting
neither a crashed handler's 500 nor anything but probes beside users'
requests; ingress-nginx's request metrics with their label set as stored
(``exported_namespace``), DefBuckets in Go's spelling, websockets' 101, and
during a canary the canary's share under the same ``ingress`` with its
``canary`` label; no ``redis_key_size`` while the queue is empty; no app
metric the app does not set, unless a scenario says the app emits its group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from infra import ingress_contract as edge
from infra.app_contract import LATENCY_BUCKETS_SECONDS, QUEUE_KEY
from infra.render.workloads.canary import canary_upstream

# Every series carries the labels its source and its scrape give it (sources.py, beside this file).
API_TARGET = (
    'job="samokoder-api", namespace="samokoder", service="samokoder-api", pod="samokoder-api-6d9f-x2k4q", '
    'container="api", endpoint="http", instance="10.1.0.10:8000"'
)
POD = 'namespace="samokoder", pod="samokoder-api-6d9f-x2k4q", container="api"'
# kube-state-metrics (honorLabels: the pod's namespace, pod and container are its own).
KSM = f'job="kube-state-metrics", instance="10.1.0.30:8080", endpoint="http", {POD}, uid="5f1c"'
# ingress-nginx's controller, scraped by its chart's ServiceMonitor (honorLabels unset): the
# request's own namespace and service are stored as exported_*.
_CONTROLLER = "ingress-nginx-controller-7c9d4-abcde"
EDGE_TARGET = (
    'job="ingress-nginx-controller-metrics", namespace="ingress-nginx", '
    f'service="ingress-nginx-controller-metrics", pod="{_CONTROLLER}", container="controller", '
    'endpoint="metrics", instance="10.1.0.5:10254", controller_namespace="ingress-nginx", '
    f'controller_class="k8s.io/ingress-nginx", controller_pod="{_CONTROLLER}", host="samokoder.example", '
    'exported_namespace="samokoder"'
)
EDGE_API = f'{EDGE_TARGET}, ingress="samokoder-api", exported_service="samokoder-api", path="/api(/|$)(.*)"'
EDGE_SITE = f'{EDGE_TARGET}, ingress="samokoder", exported_service="samokoder-frontend", path="/"'
# Flagger's canary's requests keep the API Ingress's labels; only "canary" names the upstream that answered.
EDGE_CANARY = f'{EDGE_API}, canary="{canary_upstream()}"'
# Flagger's controller, scraped by its chart's PodMonitor (honorLabels off): the Canary's own
# namespace is stored as exported_namespace (infra/render/flagger.py).
FLAGGER_TARGET = (
    'job="flagger/flagger", namespace="flagger", pod="flagger-7d9c-m4x2p", container="flagger", '
    'endpoint="http", instance="10.1.0.40:8080", name="samokoder-api", exported_namespace="samokoder"'
)
REDIS_TARGET = (
    'job="samokoder-redis-exporter-prometheus-redis-exporter", namespace="samokoder", '
    'service="samokoder-redis-exporter-prometheus-redis-exporter", '
    'pod="samokoder-redis-exporter-5b7f-q8z2k", '
    'container="prometheus-redis-exporter", endpoint="redis-exporter", instance="10.1.0.20:9121"'
)
# The app's histogram (api/middleware/metrics.py:29, Python spelling) and ingress-nginx's (DefBuckets).
HTTP_BOUNDS = LATENCY_BUCKETS_SECONDS
EDGE_BOUNDS = edge.TIME_BUCKETS_SECONDS
LLM_BOUNDS = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0)
DB_BOUNDS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
GIB = 2.0**30


@dataclass(frozen=True)
class Load:
    """What the platform does during a phase. Shares are of users' requests, ratios of capacity."""

    api_up: bool = True
    exports_http: bool = True
    # Users' requests per second through the API's Ingress.
    rps: float = 100.0
    # Of those, answered 500 by a crashed handler: the ingress counts them, the app does not.
    error_share: float = 0.0
    # Answered 429 by the app's rate limiter (counted by both).
    rate_limited_share: float = 0.0
    # Where slow requests land (the bucket's upper bound); the rest take 0.05 s.
    slow_share: float = 0.0
    slow_bound: float = 2.5
    # What only the app sees: kubelet probes and Prometheus's scrapes, at the pod.
    probe_rps: float = 0.25
    # Websocket sessions closing per second at the ingress (101, observed after minutes).
    websocket_closes: float = 0.05
    # ingress-nginx exports series for the API's Ingress.
    edge_metrics: bool = True
    # During a release: the canary's share of users' requests (and of websocket sessions), with its
    # own shares of 500s and of slow requests (the rest of the shares above are stable's).
    canary_share: float = 0.0
    canary_error_share: float = 0.0
    canary_slow_share: float = 0.0
    # The instrumentation groups the app emits (infra/settings/monitoring.py); none today.
    instrumented: frozenset[str] = frozenset()
    llm_rps: float = 1.0
    llm_error_share: float = 0.0
    llm_bound: float = 5.0
    tokens_per_second: float = 100.0
    db_qps: float = 50.0
    db_error_share: float = 0.0
    db_bound: float = 0.01
    cpu: float = 0.2
    memory: float = 0.3
    volume: float = 0.1
    file_descriptors: float = 0.1
    db_pool: float = 0.25
    queue: float = 0.01
    queue_capacity: int = 1000
    auth_rps: float = 2.0
    auth_failure_share: float = 0.05
    projects_per_hour: float = 6.0
    exporter_up: bool = True
    # The blackbox exporter's probes succeed.
    api_probe_ok: bool = True
    # An API pod's container restarts, and whether it now waits in CrashLoopBackOff.
    api_restarts_per_minute: float = 0.0
    api_backing_off: bool = False
    # Redis, through redis_exporter: up, memory against maxmemory, refused connections.
    redis_up: bool = True
    redis_memory: float = 0.1
    redis_rejected_per_second: float = 0.0
    # One of the cluster's info alerts (kube-prometheus-stack's CPUThrottlingHigh) fires in our namespace.
    cluster_info_alert: bool = False
    # Flagger's last verdict on the API's Canary (0 progressing, 1 succeeded, 2 failed); None: no Flagger.
    canary_status: int | None = 1
    # The database: instance pods (the first is the primary) and how many run PostgreSQL.
    db_instances: int = 3
    db_instances_up: int = 3
    replication_lag_seconds: float = 0.5
    wal_archived_per_second: float = 1 / 60
    wal_failures_per_second: float = 0.0
    wal_ready: int = 0
    backup_metrics: bool = True
    backup_age_hours: float = 6.0
    # The last backup attempt failed after the last success (else the last failure was a month ago).
    backup_failed_last: bool = False
    # The cluster these series are of (its PodMonitor's ``cluster`` label), and another scraped beside
    # it, healthy, as the running cluster is after a cut-over to a restored one (None: none).
    db_cluster: str = "samokoder-db"
    db_idle_cluster: str | None = None
    # The restore drill's pushed outcome: the last good drill's age (None: never one) and the last
    # drill's verdict.
    drill_age_days: float | None = 2.0
    drill_passed: bool = True

    def but(self, **changes: object) -> Load:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Phase:
    minutes: int
    load: Load


Kind = Literal["counter", "gauge", "timestamp"]
MONTH = 30 * 86400.0
Emitted = Iterator[tuple[str, Kind, float | None]]


@dataclass
class _Series:
    """One series: its value per step."""

    kind: Kind
    values: list[float | None] = field(default_factory=list)


def _python(bound: float) -> str:
    return repr(float(bound))  # the Python client's spelling: 1.0, 0.25


def _go(bound: float) -> str:
    return f"{bound:g}"  # client_golang's: 1, 0.25


def _histogram(
    name: str,
    labels: str,
    bounds: Sequence[float],
    *,
    spell: Callable[[float], str],
    rate: float,
    at: Sequence[tuple[float, float]],
) -> Emitted:
    """A histogram's buckets and count; ``at`` holds (share, duration) of the observations."""
    for le in (*bounds, float("inf")):
        spelt = "+Inf" if le == float("inf") else spell(le)
        within = sum(share for share, duration in at if duration <= le)
        yield f'{name}_bucket{{{labels}, le="{spelt}"}}', "counter", rate * within
    yield f"{name}_count{{{labels}}}", "counter", rate


def _buckets(histogram: str, labels: str, bounds: Sequence[float], rate: float, bound: float) -> Emitted:
    """A histogram (Python spelling) whose observations all fall at or under ``bound``."""
    yield from _histogram(histogram, labels, bounds, spell=_python, rate=rate, at=[(1.0, bound)])


def _latencies(load: Load) -> list[tuple[float, float]]:
    return [(1 - load.slow_share, 0.05), (load.slow_share, load.slow_bound)]


def _edge_side(labels: str, share: float, load: Load, error_share: float, slow_share: float) -> Emitted:
    """One upstream's ``share`` of the requests at the API's Ingress: by status, latencies, websockets."""
    rps = load.rps * share
    statuses = {
        "200": rps * (1 - error_share - load.rate_limited_share),
        "429": rps * load.rate_limited_share,
        "500": rps * error_share,
    }
    at = [(1 - slow_share, 0.05), (slow_share, load.slow_bound)]
    for status, rate in statuses.items():
        series = f'{labels}, method="GET", status="{status}"'
        yield f"nginx_ingress_controller_requests{{{series}}}", "counter", rate
        yield from _histogram(edge.REQUEST_DURATION, series, EDGE_BOUNDS, spell=_go, rate=rate, at=at)
    # Websocket sessions: 101, observed when they close, minutes long.
    closes = load.websocket_closes * share
    ws = f'{labels}, method="GET", status="{edge.WEBSOCKET_STATUS}"'
    yield f"nginx_ingress_controller_requests{{{ws}}}", "counter", closes
    yield from _histogram(edge.REQUEST_DURATION, ws, EDGE_BOUNDS, spell=_go, rate=closes, at=[(1.0, 600.0)])


def _edge_series(load: Load) -> Emitted:
    """ingress-nginx's per-request series: the API's Ingress (stable and, during a release, the
    canary) and the site's."""
    shown = load.edge_metrics
    stable = _edge_side(EDGE_API, 1 - load.canary_share, load, load.error_share, load.slow_share)
    canary = _edge_side(EDGE_CANARY, load.canary_share, load, load.canary_error_share, load.canary_slow_share)
    for name, kind, value in (*stable, *(canary if load.canary_share else ())):
        yield name, kind, value if shown else None
    # The site answers its own 404s: none of them is the API's.
    site = f'{EDGE_SITE}, method="GET", status="404"'
    yield f"nginx_ingress_controller_requests{{{site}}}", "counter", 1.0


def _app_series(load: Load) -> Emitted:
    """The API's own series: users' requests it completed (not the crashed ones), probes, scrapes."""
    http = load.exports_http
    # The app's own endpoint label is stored as exported_endpoint (the target sets endpoint).
    users = f'{API_TARGET}, method="GET", exported_endpoint="/v1/projects"'
    probes = f'{API_TARGET}, method="GET", exported_endpoint="/health"'
    counted = {
        (users, "200"): load.rps * (1 - load.error_share - load.rate_limited_share),
        (users, "429"): load.rps * load.rate_limited_share,
        (probes, "200"): load.probe_rps,
    }
    for (labels, status), rate in counted.items():
        yield (
            f'samokoder_http_requests_total{{{labels}, status="{status}"}}',
            "counter",
            rate if http else None,
        )
    for labels, rate, at in (
        (users, load.rps * (1 - load.error_share), _latencies(load)),
        (probes, load.probe_rps, [(1.0, 0.01)]),
    ):
        for name, kind, value in _histogram(
            "samokoder_http_request_duration_seconds", labels, HTTP_BOUNDS, spell=_python, rate=rate, at=at
        ):
            yield name, kind, value if http else None
        yield f"samokoder_http_requests_in_progress{{{labels}}}", "gauge", 1.0 if http else None
    yield (
        f'samokoder_rate_limit_hits_total{{{users}, limit_type="unknown"}}',
        "counter",
        load.rps * load.rate_limited_share if http else None,
    )
    yield f"process_open_fds{{{API_TARGET}}}", "gauge", 65536 * load.file_descriptors if http else None
    yield f"process_max_fds{{{API_TARGET}}}", "gauge", 65536.0 if http else None


def _instrumented_series(load: Load) -> Emitted:
    """App metrics the app does not set today: only for the groups ``load.instrumented`` names."""
    groups = load.instrumented
    if "llm" in groups:
        llm = f'{API_TARGET}, provider="openrouter"'
        yield f'samokoder_llm_requests_total{{{llm}, model="m", agent="coder"}}', "counter", load.llm_rps
        yield (
            f'samokoder_llm_request_errors_total{{{llm}, error_type="timeout"}}',
            "counter",
            load.llm_rps * load.llm_error_share,
        )
        yield from _buckets(
            "samokoder_llm_request_duration_seconds",
            f'{llm}, model="m"',
            LLM_BOUNDS,
            load.llm_rps,
            load.llm_bound,
        )
        yield (
            f'samokoder_llm_tokens_consumed_total{{{llm}, model="m", token_type="completion"}}',
            "counter",
            load.tokens_per_second,
        )
    if "database" in groups:
        db = f'{API_TARGET}, operation="select"'
        yield from _buckets("samokoder_db_query_duration_seconds", db, DB_BOUNDS, load.db_qps, load.db_bound)
        yield (
            f'samokoder_db_errors_total{{{API_TARGET}, error_type="deadlock"}}',
            "counter",
            load.db_qps * load.db_error_share,
        )
        yield f'samokoder_db_connection_pool_size{{{API_TARGET}, state="in_use"}}', "gauge", 20 * load.db_pool
        yield f'samokoder_db_connection_pool_size{{{API_TARGET}, state="max"}}', "gauge", 20.0
    if "connections" in groups:
        yield f'samokoder_network_connections_active{{{API_TARGET}, state="established"}}', "gauge", 42.0
    if "auth" in groups:
        for result, share in (("success", 1 - load.auth_failure_share), ("failure", load.auth_failure_share)):
            yield (
                f'samokoder_auth_attempts_total{{{API_TARGET}, result="{result}"}}',
                "counter",
                load.auth_rps * share,
            )
    if "projects" in groups:
        yield (
            f'samokoder_projects_created_total{{{API_TARGET}, user_tier="free"}}',
            "counter",
            load.projects_per_hour / 3600,
        )


def _redis_series(load: Load) -> Emitted:
    """redis_exporter's: redis_up alone while Redis does not answer; the queue only while it holds jobs."""
    up = load.redis_up
    yield f"redis_up{{{REDIS_TARGET}}}", "gauge", 1.0 if up else 0.0
    yield f"redis_memory_used_bytes{{{REDIS_TARGET}}}", "gauge", GIB * load.redis_memory if up else None
    yield f"redis_memory_max_bytes{{{REDIS_TARGET}}}", "gauge", GIB if up else None
    yield f"redis_connected_clients{{{REDIS_TARGET}}}", "gauge", 12.0 if up else None
    yield f"redis_commands_processed_total{{{REDIS_TARGET}}}", "counter", 50.0 if up else None
    yield (
        f"redis_rejected_connections_total{{{REDIS_TARGET}}}",
        "counter",
        load.redis_rejected_per_second if up else None,
    )
    depth = load.queue * load.queue_capacity
    yield (
        f'redis_key_size{{{REDIS_TARGET}, db="db0", key="{QUEUE_KEY}"}}',
        "gauge",
        depth if up and depth > 0 else None,
    )


def _database_series(load: Load) -> Emitted:
    """CloudNativePG's and the Barman Cloud plugin's series of the load's cluster, and of a healthy idle
    one beside it."""
    yield from _cluster_series(load, 1)
    if load.db_idle_cluster is not None:
        yield from _cluster_series(Load(db_cluster=load.db_idle_cluster, db_instances=load.db_instances), 2)


def _cluster_series(load: Load, subnet: int) -> Emitted:
    """One cluster's series, one set per instance pod, as its PodMonitor stores them."""
    name = load.db_cluster
    for i in range(load.db_instances):
        pod = (
            f'job="samokoder/{name}", namespace="samokoder", cluster="{name}", '
            f'pod="{name}-{i + 1}", container="postgres", endpoint="metrics", '
            f'instance="10.1.{subnet}.{i + 1}:9187"'
        )
        yield f"cnpg_collector_up{{{pod}}}", "gauge", 1.0 if i < load.db_instances_up else 0.0
        backups = load.backup_metrics
        age = load.backup_age_hours * 3600
        failed = age - 1800 if load.backup_failed_last else MONTH
        yield (
            f"barman_cloud_cloudnative_pg_io_last_available_backup_timestamp{{{pod}}}",
            "timestamp",
            age if backups else None,
        )
        yield (
            f"barman_cloud_cloudnative_pg_io_last_failed_backup_timestamp{{{pod}}}",
            "timestamp",
            failed if backups else None,
        )
        yield (
            f"barman_cloud_cloudnative_pg_io_first_recoverability_point{{{pod}}}",
            "timestamp",
            7 * 86400.0 if backups else None,
        )
        database = f'{pod}, datname="samokoder"'
        yield (
            f'cnpg_backends_total{{{database}, usename="samokoder", application_name="", state="active"}}',
            "gauge",
            5.0,
        )
        yield f'cnpg_pg_settings_setting{{{pod}, name="max_connections"}}', "gauge", 100.0
        if i == 0:
            yield f"cnpg_pg_stat_archiver_archived_count{{{pod}}}", "counter", load.wal_archived_per_second
            yield f"cnpg_pg_stat_archiver_failed_count{{{pod}}}", "counter", load.wal_failures_per_second
            yield (
                f'cnpg_collector_pg_wal_archive_status{{{pod}, value="ready"}}',
                "gauge",
                float(load.wal_ready),
            )
            yield f"cnpg_pg_replication_lag{{{pod}}}", "gauge", 0.0
            yield f"cnpg_pg_database_size_bytes{{{database}}}", "gauge", 3 * GIB
            yield f"cnpg_pg_stat_database_xact_commit{{{database}}}", "counter", 40.0
            yield f"cnpg_pg_stat_database_xact_rollback{{{database}}}", "counter", 0.5
            yield f"cnpg_pg_stat_database_deadlocks{{{database}}}", "counter", 0.0
        else:
            yield f"cnpg_pg_replication_lag{{{pod}}}", "gauge", load.replication_lag_seconds


def _drill_series(load: Load) -> Emitted:
    """What the restore drill pushed, as the Pushgateway's ServiceMonitor stores it (honorLabels:
    the pushed job, the pushed instance "" and the group's stack label)."""
    pushed = (
        'job="samokoder-restore-drill", instance="", stack="prod", '
        + ("" if load.db_cluster == "samokoder-db" else f'archive="{load.db_cluster}", ')
        + 'namespace="monitoring", '
        'service="prometheus-pushgateway", pod="prometheus-pushgateway-5d8f-x7k2p", '
        'container="pushgateway", endpoint="http"'
    )
    age = None if load.drill_age_days is None else load.drill_age_days * 86400
    yield f"samokoder_restore_drill_last_success_timestamp_seconds{{{pushed}}}", "timestamp", age
    yield f"samokoder_restore_drill_success{{{pushed}}}", "gauge", 1.0 if load.drill_passed else 0.0
    yield f"samokoder_restore_drill_restore_seconds{{{pushed}}}", "gauge", 900.0


def _series_of(load: Load) -> Emitted:
    """(series, kind, value; None = not exported).

    The value is a per-second rate for a counter, the value of a gauge, and
    for a timestamp gauge how many seconds before the sample it points.
    """
    yield f"up{{{API_TARGET}}}", "gauge", 1.0 if load.api_up else 0.0
    yield f"up{{{REDIS_TARGET}}}", "gauge", 1.0 if load.exporter_up else 0.0
    yield from _edge_series(load)
    yield from _app_series(load)
    yield from _instrumented_series(load)
    yield from _redis_series(load)
    yield f"kube_pod_container_status_restarts_total{{{KSM}}}", "counter", load.api_restarts_per_minute / 60
    yield (
        f'kube_pod_container_status_waiting_reason{{{KSM}, reason="CrashLoopBackOff"}}',
        "gauge",
        1.0 if load.api_backing_off else None,
    )
    yield (
        'ALERTS{alertname="CPUThrottlingHigh", alertstate="firing", severity="info", '
        'namespace="samokoder", pod="samokoder-worker-7f8c-k2j4d", container="worker"}',
        "gauge",
        1.0 if load.cluster_info_alert else None,
    )
    kubelet = 'job="kubelet", metrics_path="/metrics/cadvisor", instance="10.1.0.2:10250", node="node-a"'
    yield f"container_cpu_usage_seconds_total{{{kubelet}, {POD}}}", "counter", 2.0 * load.cpu
    yield f'kube_pod_container_resource_limits{{{KSM}, resource="cpu", unit="core"}}', "gauge", 2.0
    yield f"container_memory_working_set_bytes{{{kubelet}, {POD}}}", "gauge", 2 * GIB * load.memory
    yield f'kube_pod_container_resource_limits{{{KSM}, resource="memory", unit="byte"}}', "gauge", 2 * GIB
    pvc = 'job="kubelet", namespace="samokoder", persistentvolumeclaim="data-postgres-1"'
    yield f"kubelet_volume_stats_used_bytes{{{pvc}}}", "gauge", 100 * GIB * load.volume
    yield f"kubelet_volume_stats_capacity_bytes{{{pvc}}}", "gauge", 100 * GIB
    probe = 'job="samokoder-blackbox", namespace="monitoring"'
    yield (
        f'probe_success{{{probe}, instance="http://samokoder-api.samokoder.svc:8000/health"}}',
        "gauge",
        1.0 if load.api_probe_ok else 0.0,
    )
    yield f'probe_success{{{probe}, instance="http://samokoder-frontend.samokoder.svc/"}}', "gauge", 1.0
    yield from _database_series(load)
    yield from _drill_series(load)
    status = load.canary_status
    yield f"flagger_canary_status{{{FLAGGER_TARGET}}}", "gauge", None if status is None else float(status)


def _continues(first: float | None, previous: float | None, current: float | None, step: float) -> bool:
    if first is None or previous is None or current is None:
        return first is None and current is None
    return abs(current - previous - step) < 1e-6 * max(1.0, abs(step))


def _runs(values: Sequence[float | None]) -> Iterator[tuple[float | None, float, int]]:
    """(first value, step, length) of each stretch that is missing or changes by a constant step."""
    i = 0
    while i < len(values):
        first, j = values[i], i + 1
        following = values[j] if j < len(values) else None
        step = following - first if first is not None and following is not None else 0.0
        while j < len(values) and _continues(first, values[j - 1], values[j], step):
            j += 1
        yield first, step, j - i
        i = j


def _notation(values: Sequence[float | None]) -> str:
    """promtool's expanding notation: ``a+bxn`` is n + 1 values, ``_xn`` is n missing ones."""
    return " ".join(
        f"_x{length}" if first is None else f"{first:.12g}+{step:.12g}x{length - 1}"
        for first, step, length in _runs(values)
    )


def sample(
    phases: Sequence[Phase], step_minutes: int = 1, start: float = 0.0
) -> dict[str, list[float | None]]:
    """Every series' value at each step (None where it is not exported); the first step is at ``start``."""
    series: dict[str, _Series] = {}
    totals: dict[str, float] = {}
    steps = 0
    for phase in phases:
        for _ in range(phase.minutes // step_minutes):
            now = start + steps * step_minutes * 60
            for name, kind, value in _series_of(phase.load):
                s = series.setdefault(name, _Series(kind, [None] * steps))
                if value is None:
                    s.values.append(None)
                elif kind == "timestamp":
                    s.values.append(now - value)
                elif kind == "counter":
                    # The first sample of a counter is 0; each step adds its rate.
                    total = totals.get(name)
                    totals[name] = 0.0 if total is None else total + value * 60 * step_minutes
                    s.values.append(totals[name])
                else:
                    s.values.append(value)
            # A series this phase does not yield (the canary's, between releases) is missing in it.
            for s in series.values():
                if len(s.values) <= steps:
                    s.values.append(None)
            steps += 1
    return {name: s.values for name, s in series.items()}


def input_series(phases: Sequence[Phase], step_minutes: int = 1) -> list[dict[str, str]]:
    """promtool ``input_series`` for the phases, sampled every ``step_minutes``."""
    return [
        {"series": name, "values": _notation(values)} for name, values in sample(phases, step_minutes).items()
    ]


def openmetrics(phases: Sequence[Phase], end: float, step_minutes: int = 1) -> str:
    """The same series as OpenMetrics text with timestamps, the last sample at ``end`` (Unix seconds)."""
    lines: list[str] = []
    steps = sum(phase.minutes // step_minutes for phase in phases)
    start = end - (steps - 1) * step_minutes * 60
    for name, values in sorted(sample(phases, step_minutes, start).items()):
        # OpenMetrics allows no space between labels.
        series = name.replace('", ', '",')
        lines += [
            f"{series} {value:.12g} {start + i * step_minutes * 60:.3f}"
            for i, value in enumerate(values)
            if value is not None
        ]
    return "\n".join([*lines, "# EOF", ""])
