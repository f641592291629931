"""Saturation: the app's containers, volumes, file descriptors, database pool and worker queue."""

from __future__ import annotations

from infra.render.monitoring import contract as m
from infra.render.monitoring.alerts.series import (
    CPU_RATIO,
    FD_RATIO,
    MEMORY_RATIO,
    POOL_RATIO,
    QUEUE_RATIO,
    VOLUME_RATIO,
)
from infra.render.monitoring.promql import ratio, selector, sum_rate
from infra.render.monitoring.rules import Alert, Recording, RuleFile, RuleGroup, threshold_alerts
from infra.settings.monitoring import InstrumentationGroup, Thresholds

CPU = 'resource="cpu"'
MEMORY = 'resource="memory"'


def saturation(t: Thresholds, groups: frozenset[InstrumentationGroup]) -> RuleFile:
    database = "database" in groups
    rules: tuple[Alert | Recording, ...] = (*_recordings(t, database), *_alerts(t, database))
    return RuleFile("saturation", (RuleGroup("samokoder-saturation", rules),))


def _recordings(t: Thresholds, database: bool) -> tuple[Recording, ...]:
    """Each resource's use against its limit."""
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
    return (
        Recording(CPU_RATIO, cpu),
        Recording(MEMORY_RATIO, memory),
        Recording(VOLUME_RATIO, volume),
        Recording(FD_RATIO, fds),
        *((Recording(POOL_RATIO, pool),) if database else ()),
        Recording(QUEUE_RATIO, queue),
    )


def _alerts(t: Thresholds, database: bool) -> tuple[Alert, ...]:
    """A warning and a critical on each ratio recorded."""

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

    return (
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
    )
