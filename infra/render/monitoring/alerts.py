"""Alert and recording rules of the platform, built from a stack's settings.

Four rule files: the API's golden signals (measured at the edge, from
ingress-nginx), its dependencies (Redis; the LLM providers and the database
as the app sees them), saturation, and the product and meta alerts (targets
down, Watchdog, InfoInhibitor). The SLO rules are in ``slo.py``. Every ratio
aggregates both sides before dividing.

Rules on app metrics the app does not set yet (LLM, database client, auth,
projects) are generated only for the groups ``monitoring.instrumentation``
turns on, which the settings allow only once the app contract marks their
metrics emitted.
"""

from __future__ import annotations

from infra.render.monitoring import contract as m
from infra.render.monitoring.promql import quantile, ratio, selector, sum_rate
from infra.render.monitoring.rules import Alert, Recording, RuleFile, RuleGroup
from infra.render.monitoring.thresholds import threshold_alerts
from infra.settings.monitoring import InstrumentationGroup, Thresholds
from infra.settings.stack import StackSettings

API_LABELS = {"service": "api"}
CPU = 'resource="cpu"'
MEMORY = 'resource="memory"'

# Recorded series the alerts and dashboards read.
# The app's own count: every request its middleware saw, kubelet probes and scrapes included.
HTTP_RATE = "samokoder:http_requests:rate5m"
# At the edge: the API's Ingress, users' requests only, a crashed handler's 500 included.
EDGE_RATE = "samokoder:edge_requests:rate5m"
HTTP_ERROR_RATIO = "samokoder:edge_errors:ratio_rate5m"
HTTP_LATENCY = {q: f"samokoder:edge_request_duration_seconds:p{q}_5m" for q in (50, 95, 99)}
RATE_LIMITED_RATIO = "samokoder:rate_limit_hits:ratio_rate5m"
LLM_ERROR_RATIO = "samokoder:llm_errors:ratio_rate5m"
LLM_LATENCY_P95 = "samokoder:llm_request_duration_seconds:p95_5m"
LLM_TOKENS_RATE = "samokoder:llm_tokens:rate1h"
DB_ERROR_RATIO = "samokoder:db_errors:ratio_rate5m"
DB_QUERY_P95 = "samokoder:db_query_duration_seconds:p95_5m"
CPU_RATIO = "samokoder:container_cpu_usage:ratio_limit"
MEMORY_RATIO = "samokoder:container_memory_working_set:ratio_limit"
VOLUME_RATIO = "samokoder:volume_usage:ratio_capacity"
FD_RATIO = "samokoder:file_descriptors:ratio_max"
POOL_RATIO = "samokoder:db_pool:ratio_max"
QUEUE_RATIO = "samokoder:worker_queue:ratio_capacity"
REDIS_MEMORY_RATIO = "samokoder:redis_memory:ratio_max"
AUTH_FAILURE_RATIO = "samokoder:auth_failures:ratio_rate5m"


def api_golden_signals(t: Thresholds) -> RuleFile:
    requests = selector(m.HTTP_REQUESTS, m.API)
    edge = selector(m.EDGE_REQUESTS, m.EDGE_API)
    edge_errors = selector(m.EDGE_REQUESTS, m.EDGE_API, m.EDGE_ERRORS)
    recordings: list[Recording] = [
        Recording(HTTP_RATE, sum_rate(requests, "5m")),
        Recording(EDGE_RATE, sum_rate(edge, "5m")),
        Recording(HTTP_ERROR_RATIO, ratio(sum_rate(edge_errors, "5m"), sum_rate(edge, "5m"))),
        Recording(
            RATE_LIMITED_RATIO,
            ratio(sum_rate(selector(m.RATE_LIMIT_HITS, m.API), "5m"), sum_rate(requests, "5m")),
        ),
    ]
    recordings += [
        Recording(record, quantile(q / 100, m.EDGE_DURATION, [m.EDGE_API, m.EDGE_NOT_WEBSOCKET], "5m"))
        for q, record in HTTP_LATENCY.items()
    ]
    restarts = selector(m.RESTARTS, m.API_CONTAINER)
    backing_off = selector(m.WAITING, m.API_CONTAINER, m.CRASH_LOOP)
    per_container = "by (namespace, pod, container)"
    alerts = [
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
            f"{HTTP_RATE} == 0 and on() sum(up{{{m.API}}}) > 0",
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
        *threshold_alerts(
            "ApiLatencyHigh",
            HTTP_LATENCY[95],
            t.latency_p95_seconds,
            summary="API P95 latency is high",
            description="P95 latency of the API at the ingress is {{ $value | humanizeDuration }} "
            "(threshold {level}) over 5 minutes.",
            for_="10m",
            labels={**API_LABELS, "signal": "latency"},
        ),
        *threshold_alerts(
            "ApiErrorRateHigh",
            HTTP_ERROR_RATIO,
            t.error_rate,
            summary="API answers too many 5xx",
            description="{{ $value | humanizePercentage }} of the API's requests at the ingress failed "
            "with 5xx over 5 minutes (threshold {level}).",
            for_="5m",
            labels={**API_LABELS, "signal": "errors"},
        ),
        Alert(
            "HighRateLimitHits",
            f"{RATE_LIMITED_RATIO}\n> {t.rate_limit_hits_percent / 100:g}",
            "warning",
            "The API rate-limits many requests",
            "{{ $value | humanizePercentage }} of the API's requests were answered 429 by its rate "
            f"limiter over 5 minutes (threshold {t.rate_limit_hits_percent:g} %): an abusive client, "
            "or limits too tight for real use.",
            for_="10m",
            labels={**API_LABELS, "signal": "rate-limit"},
        ),
    ]
    return RuleFile("api", (RuleGroup("samokoder-api", (*recordings, *alerts)),))


def redis(t: Thresholds) -> RuleGroup:
    """Redis holds the worker's queue and the rate limiter's counters, and runs noeviction."""
    per_redis = "max by (namespace)"
    memory = ratio(
        f"{per_redis} ({selector(m.REDIS_MEMORY_USED, m.REDIS)})",
        # maxmemory 0 means no limit: no ratio then.
        f"{per_redis} ({selector(m.REDIS_MEMORY_MAX, m.REDIS)} > 0)",
    )
    return RuleGroup(
        "samokoder-redis",
        (
            Recording(REDIS_MEMORY_RATIO, memory),
            Alert(
                "RedisDown",
                f"{per_redis} ({selector(m.REDIS_UP, m.REDIS)}) == 0",
                "critical",
                "Redis does not answer its exporter",
                "redis_exporter has not reached Redis for 2 minutes: the worker's queue and the API's "
                "rate limiter are down with it.",
                for_="2m",
                labels={"service": "redis"},
            ),
            *threshold_alerts(
                "RedisMemoryHigh",
                REDIS_MEMORY_RATIO,
                t.redis_memory,
                summary="Redis memory is filling up",
                description="Redis uses {{ $value | humanizePercentage }} of its maxmemory (threshold "
                "{level}); it runs noeviction, so when full it refuses every write: no job is queued.",
                for_="10m",
                labels={"service": "redis"},
            ),
            Alert(
                "RedisRejectingConnections",
                f"sum by (namespace) (increase({selector(m.REDIS_REJECTED, m.REDIS)}[5m])) > 0",
                "warning",
                "Redis rejects connections",
                "Redis refused {{ $value | humanize }} connection(s) in 5 minutes: maxclients is reached "
                "and the app's Redis calls fail.",
                for_="5m",
                labels={"service": "redis"},
            ),
        ),
    )


def dependencies(t: Thresholds, groups: frozenset[InstrumentationGroup]) -> RuleFile:
    llm_errors = sum_rate(m.LLM_ERRORS, "5m", ["provider"])
    llm_requests = sum_rate(m.LLM_REQUESTS, "5m", ["provider"])
    tokens_now = sum_rate(m.LLM_TOKENS, "1h")
    tokens_day_before = f"sum(rate({m.LLM_TOKENS}[1d] offset 1h))"
    llm = RuleGroup(
        "samokoder-llm",
        (
            Recording(LLM_ERROR_RATIO, ratio(llm_errors, llm_requests)),
            Recording(LLM_LATENCY_P95, quantile(0.95, m.LLM_DURATION, [], "5m", ["provider"])),
            Recording(LLM_TOKENS_RATE, tokens_now),
            *threshold_alerts(
                "LlmErrorRateHigh",
                LLM_ERROR_RATIO,
                t.llm_error_rate,
                summary="LLM provider {{ $labels.provider }} fails requests",
                description="{{ $value | humanizePercentage }} of requests to {{ $labels.provider }} failed "
                "over 5 minutes (threshold {level}).",
                for_="10m",
                labels={"service": "llm"},
            ),
            *threshold_alerts(
                "LlmLatencyHigh",
                LLM_LATENCY_P95,
                t.llm_latency_p95_seconds,
                summary="LLM provider {{ $labels.provider }} is slow",
                description="P95 latency of {{ $labels.provider }} is {{ $value | humanizeDuration }} "
                "(threshold {level}).",
                for_="15m",
                labels={"service": "llm"},
            ),
            # rate() over a day divides by the whole day: the comparison only
            # holds once the counter existed at the start of that day.
            Alert(
                "LlmTokenSpike",
                f"{LLM_TOKENS_RATE}\n> {t.llm_token_spike_factor:g} * {tokens_day_before}\n"
                f"and on() count({m.LLM_TOKENS} offset 25h) > 0",
                "warning",
                "LLM token consumption spiked",
                f"Tokens per second over the last hour are more than {t.llm_token_spike_factor:g}x "
                "the average of the day before: LLM cost is rising fast.",
                for_="15m",
                labels={"service": "llm"},
            ),
        ),
    )
    queries = sum_rate(f"{m.DB_DURATION}_count", "5m")
    database = RuleGroup(
        "samokoder-database-client",
        (
            Recording(DB_ERROR_RATIO, ratio(sum_rate(m.DB_ERRORS, "5m"), queries)),
            Recording(DB_QUERY_P95, quantile(0.95, m.DB_DURATION, [], "5m", ["operation"])),
            *threshold_alerts(
                "DatabaseErrorRateHigh",
                DB_ERROR_RATIO,
                t.db_error_rate,
                summary="Database queries fail",
                description="{{ $value | humanizePercentage }} of the app's database queries failed "
                "over 5 minutes (threshold {level}).",
                for_="5m",
                labels={"service": "database"},
            ),
            *threshold_alerts(
                "DatabaseQueriesSlow",
                DB_QUERY_P95,
                t.db_query_p95_seconds,
                summary="Slow {{ $labels.operation }} queries",
                description="P95 of {{ $labels.operation }} queries is {{ $value | humanizeDuration }} "
                "(threshold {level}).",
                for_="10m",
                labels={"service": "database"},
            ),
        ),
    )
    return RuleFile(
        "dependencies",
        (
            redis(t),
            *((llm,) if "llm" in groups else ()),
            *((database,) if "database" in groups else ()),
        ),
    )


def saturation(t: Thresholds, groups: frozenset[InstrumentationGroup]) -> RuleFile:
    containers = m.APP_CONTAINERS
    per_container = ["namespace", "pod", "container"]
    per_pod = "sum by (namespace, pod, container)"
    limits = "kube_pod_container_resource_limits"
    cpu = ratio(
        sum_rate(selector("container_cpu_usage_seconds_total", containers), "5m", per_container),
        f"{per_pod} ({selector(limits, containers, CPU)})",
    )
    memory = ratio(
        f"{per_pod} ({selector('container_memory_working_set_bytes', containers)})",
        f"{per_pod} ({selector(limits, containers, MEMORY)})",
    )
    volumes = f'namespace="{m.NAMESPACE}"'
    volume = ratio(
        f"sum by (namespace, persistentvolumeclaim) (kubelet_volume_stats_used_bytes{{{volumes}}})",
        f"sum by (namespace, persistentvolumeclaim) (kubelet_volume_stats_capacity_bytes{{{volumes}}})",
    )
    per_instance = "sum by (job, instance)"
    # prometheus_client's process collector: the app's own descriptor gauges are never set.
    fds = ratio(
        f"{per_instance} ({selector(m.PROCESS_FDS_OPEN, m.API)})",
        f"{per_instance} ({selector(m.PROCESS_FDS_MAX, m.API)})",
    )
    pool = ratio(
        f"{per_instance} ({selector(m.DB_POOL, m.POOL_IN_USE)})",
        f"{per_instance} ({selector(m.DB_POOL, m.POOL_MAX)})",
    )
    # ZCARD of arq's queue, from redis_exporter: no series while the queue is empty.
    queue = f"max by (namespace, key) ({selector(m.REDIS_KEY_SIZE, m.QUEUE)}) / {t.queue_depth.capacity}"

    def pair(name: str, value: str, level: str, subject: str, what: str) -> tuple[Alert, Alert]:
        return threshold_alerts(
            name,
            value,
            getattr(t, level),
            summary=f"{subject} is saturated",
            description=what + " is at {{ $value | humanizePercentage }} (threshold {level}).",
            for_="15m",
            labels={"signal": "saturation"},
        )

    database = "database" in groups
    return RuleFile(
        "saturation",
        (
            RuleGroup(
                "samokoder-saturation",
                (
                    Recording(CPU_RATIO, cpu),
                    Recording(MEMORY_RATIO, memory),
                    Recording(VOLUME_RATIO, volume),
                    Recording(FD_RATIO, fds),
                    *((Recording(POOL_RATIO, pool),) if database else ()),
                    Recording(QUEUE_RATIO, queue),
                    *pair(
                        "ContainerCpuHigh",
                        CPU_RATIO,
                        "cpu",
                        "CPU of {{ $labels.pod }}/{{ $labels.container }}",
                        "CPU use of {{ $labels.pod }}/{{ $labels.container }} against its limit",
                    ),
                    *pair(
                        "ContainerMemoryHigh",
                        MEMORY_RATIO,
                        "memory",
                        "Memory of {{ $labels.pod }}/{{ $labels.container }}",
                        "Working set of {{ $labels.pod }}/{{ $labels.container }} against its limit",
                    ),
                    *pair(
                        "VolumeFillingUp",
                        VOLUME_RATIO,
                        "disk",
                        "Volume {{ $labels.persistentvolumeclaim }}",
                        "Volume {{ $labels.persistentvolumeclaim }}",
                    ),
                    *pair(
                        "FileDescriptorsExhausting",
                        FD_RATIO,
                        "file_descriptors",
                        "File descriptors of {{ $labels.instance }}",
                        "Open file descriptors of the API process {{ $labels.instance }} against its limit",
                    ),
                    *(
                        pair(
                            "DatabasePoolSaturated",
                            POOL_RATIO,
                            "db_pool",
                            "Database pool of {{ $labels.instance }}",
                            "The database connection pool of {{ $labels.instance }}",
                        )
                        if database
                        else ()
                    ),
                    *pair(
                        "WorkerQueueSaturated",
                        QUEUE_RATIO,
                        "queue_depth",
                        "Worker queue {{ $labels.key }}",
                        f"Queue {{{{ $labels.key }}}} against its capacity of {t.queue_depth.capacity} jobs",
                    ),
                ),
            ),
        ),
    )


def product_and_meta(t: Thresholds, groups: frozenset[InstrumentationGroup]) -> RuleFile:
    failures = sum_rate(selector(m.AUTH_ATTEMPTS, m.AUTH_FAILURE), "5m")
    attempts = sum_rate(m.AUTH_ATTEMPTS, "5m")
    auth = (
        Recording(AUTH_FAILURE_RATIO, ratio(failures, attempts)),
        *threshold_alerts(
            "AuthFailureSpike",
            AUTH_FAILURE_RATIO,
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


def platform_rules(settings: StackSettings) -> tuple[RuleFile, ...]:
    t = settings.thresholds
    groups = settings.monitoring.instrumentation.enabled
    return (
        api_golden_signals(t),
        dependencies(t, groups),
        saturation(t, groups),
        product_and_meta(t, groups),
    )
