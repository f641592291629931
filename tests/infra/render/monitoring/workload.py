"""Synthetic series for promtool unit tests: the platform's state, phase by phase.

A scenario is a list of phases; each phase holds the platform in one state
(``Load``) for some minutes. From that, every series the rules read is
written in promtool's expanding notation: counters integrate their rates
across phases, gauges hold their value, and a series the state says is not
exported is missing (``_``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

API_TARGET = 'job="samokoder-api", namespace="samokoder", instance="10.1.0.10:8000"'
POD = 'namespace="samokoder", pod="api-6d9f-x2k4q", container="api"'
HTTP_BOUNDS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
LLM_BOUNDS = (1.0, 5.0, 10.0, 30.0, 60.0, 120.0)
DB_BOUNDS = (0.01, 0.1, 1.0, 5.0, 10.0)


@dataclass(frozen=True)
class Load:
    """What the platform does during a phase. Shares are of requests, ratios of capacity."""

    api_up: bool = True
    exports_http: bool = True
    rps: float = 100.0
    error_share: float = 0.0
    # Where slow requests land (the bucket's upper bound); the rest take 0.05 s.
    slow_share: float = 0.0
    slow_bound: float = 2.5
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

    def but(self, **changes: object) -> Load:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Phase:
    minutes: int
    load: Load


Kind = Literal["counter", "gauge", "timestamp"]
MONTH = 30 * 86400.0


@dataclass
class _Series:
    """One series: its value per step."""

    kind: Kind
    values: list[float | None] = field(default_factory=list)


def _g(bound: float) -> str:
    return repr(float(bound))  # the Python client's spelling: 1.0, 0.25


def _buckets(
    histogram: str, labels: str, bounds: Sequence[float], rate: float, bound: float
) -> Iterator[tuple[str, Kind, float]]:
    """Cumulative buckets of a histogram whose observations all fall at or under ``bound``."""
    for le in (*bounds, float("inf")):
        spelt = "+Inf" if le == float("inf") else _g(le)
        yield f'{histogram}_bucket{{{labels}, le="{spelt}"}}', "counter", rate if le >= bound else 0.0


def _database_series(load: Load) -> Iterator[tuple[str, Kind, float | None]]:
    """CloudNativePG's and the Barman Cloud plugin's series, one set per instance pod."""
    for i in range(load.db_instances):
        pod = f'namespace="samokoder", cluster="samokoder-db", pod="samokoder-db-{i + 1}"'
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
        if i == 0:
            yield f"cnpg_pg_stat_archiver_archived_count{{{pod}}}", "counter", load.wal_archived_per_second
            yield f"cnpg_pg_stat_archiver_failed_count{{{pod}}}", "counter", load.wal_failures_per_second
            yield (
                f'cnpg_collector_pg_wal_archive_status{{{pod}, value="ready"}}',
                "gauge",
                float(load.wal_ready),
            )
            yield f"cnpg_pg_replication_lag{{{pod}}}", "gauge", 0.0
        else:
            yield f"cnpg_pg_replication_lag{{{pod}}}", "gauge", load.replication_lag_seconds


def _series_of(load: Load) -> Iterator[tuple[str, Kind, float | None]]:
    """(series, kind, value; None = not exported).

    The value is a per-second rate for a counter, the value of a gauge, and
    for a timestamp gauge how many seconds before the sample it points.
    """
    http = load.exports_http
    yield f"up{{{API_TARGET}}}", "gauge", 1.0 if load.api_up else 0.0
    yield (
        'up{job="samokoder-redis-exporter", namespace="samokoder", instance="10.1.0.20:9121"}',
        "gauge",
        1.0 if load.exporter_up else 0.0,
    )
    ok = load.rps * (1 - load.error_share)
    endpoint = f'{API_TARGET}, method="GET", endpoint="/api/v1/projects"'
    yield (
        f'samokoder_http_requests_total{{{endpoint}, status="200"}}',
        "counter",
        ok if http else None,
    )
    yield (
        f'samokoder_http_requests_total{{{endpoint}, status="500"}}',
        "counter",
        load.rps * load.error_share if http else None,
    )
    for bound in HTTP_BOUNDS:
        fast = load.rps * (1 - load.slow_share) if bound >= 0.05 else 0.0
        slow = load.rps * load.slow_share if bound >= load.slow_bound else 0.0
        yield (
            f'samokoder_http_request_duration_seconds_bucket{{{endpoint}, le="{_g(bound)}"}}',
            "counter",
            fast + slow if http else None,
        )
    for suffix in (f'_bucket{{{endpoint}, le="+Inf"}}', f"_count{{{endpoint}}}"):
        yield "samokoder_http_request_duration_seconds" + suffix, "counter", load.rps if http else None
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
    db = f'{API_TARGET}, operation="select"'
    yield from _buckets("samokoder_db_query_duration_seconds", db, DB_BOUNDS, load.db_qps, load.db_bound)
    yield f"samokoder_db_query_duration_seconds_count{{{db}}}", "counter", load.db_qps
    yield (
        f'samokoder_db_errors_total{{{API_TARGET}, error_type="deadlock"}}',
        "counter",
        load.db_qps * load.db_error_share,
    )
    yield f'samokoder_db_connection_pool_size{{{API_TARGET}, state="in_use"}}', "gauge", 20 * load.db_pool
    yield f'samokoder_db_connection_pool_size{{{API_TARGET}, state="max"}}', "gauge", 20.0
    yield (
        'samokoder_worker_queue_depth{job="samokoder-worker", queue_name="arq:queue"}',
        "gauge",
        load.queue * load.queue_capacity,
    )
    yield f"samokoder_file_descriptors_open{{{API_TARGET}}}", "gauge", 1024 * load.file_descriptors
    yield f"samokoder_file_descriptors_max{{{API_TARGET}}}", "gauge", 1024.0
    yield f'samokoder_network_connections_active{{{API_TARGET}, state="established"}}', "gauge", 42.0
    yield (
        f'samokoder_auth_attempts_total{{{API_TARGET}, result="success"}}',
        "counter",
        load.auth_rps * (1 - load.auth_failure_share),
    )
    yield (
        f'samokoder_auth_attempts_total{{{API_TARGET}, result="failure"}}',
        "counter",
        load.auth_rps * load.auth_failure_share,
    )
    yield (
        f'samokoder_projects_created_total{{{API_TARGET}, user_tier="free"}}',
        "counter",
        load.projects_per_hour / 3600,
    )
    yield f"container_cpu_usage_seconds_total{{{POD}}}", "counter", 2.0 * load.cpu
    yield f'kube_pod_container_resource_limits{{{POD}, resource="cpu", unit="core"}}', "gauge", 2.0
    gib = 2.0**30
    yield f"container_memory_working_set_bytes{{{POD}}}", "gauge", 2 * gib * load.memory
    yield f'kube_pod_container_resource_limits{{{POD}, resource="memory", unit="byte"}}', "gauge", 2 * gib
    pvc = 'namespace="samokoder", persistentvolumeclaim="data-postgres-1"'
    yield f"kubelet_volume_stats_used_bytes{{{pvc}}}", "gauge", 100 * gib * load.volume
    yield f"kubelet_volume_stats_capacity_bytes{{{pvc}}}", "gauge", 100 * gib
    probe = 'job="samokoder-blackbox", namespace="monitoring"'
    yield (
        f'probe_success{{{probe}, instance="http://samokoder-api.samokoder.svc:8000/health"}}',
        "gauge",
        1.0 if load.api_probe_ok else 0.0,
    )
    yield f'probe_success{{{probe}, instance="http://samokoder-frontend.samokoder.svc/"}}', "gauge", 1.0
    yield from _database_series(load)


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
