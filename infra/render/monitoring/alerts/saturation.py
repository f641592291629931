"""Saturation: each resource's use against its limit, recorded, then a warning and a critical on it.

The app's containers, volumes, file descriptors, database pool and worker queue.
"""

from __future__ import annotations

from infra.render.monitoring import contract as m
from infra.render.monitoring.alerts import series as rec
from infra.render.monitoring.promql import ratio_of, selector
from infra.render.monitoring.rules import Alert, Recording, RuleFile, RuleGroup, threshold_alerts
from infra.settings.monitoring import InstrumentationGroup, Threshold, Thresholds

PER_CONTAINER = "sum by (namespace, pod, container)"
PER_INSTANCE = "sum by (job, instance)"
PER_VOLUME = "sum by (namespace, persistentvolumeclaim)"
LIMITS = "kube_pod_container_resource_limits"
CONTAINER = "{{ $labels.pod }}/{{ $labels.container }}"


# (alert, the ratio it records, the ratio's expression, the threshold, what saturates, its description)
Resource = tuple[str, str, str, Threshold, str, str]


def saturation(t: Thresholds, groups: frozenset[InstrumentationGroup]) -> RuleFile:
    resources = _resources(t, database="database" in groups)
    recordings = [Recording(record, expr) for _, record, expr, *_ in resources]
    alerts: list[Alert] = []
    for name, record, _, level, subject, what in resources:
        alerts += threshold_alerts(
            name,
            record,
            level,
            summary=f"{subject} is saturated",
            description=what + " is at {{ $value | humanizePercentage }} (threshold {level}).",
            for_="15m",
            labels={"signal": "saturation"},
        )
    return RuleFile("saturation", (RuleGroup("samokoder-saturation", (*recordings, *alerts)),))


def _resources(t: Thresholds, database: bool) -> list[Resource]:
    apps = m.APP_CONTAINERS
    volumes = f'namespace="{m.NAMESPACE}"'
    resources: list[Resource] = [
        (
            "ContainerCpuHigh",
            rec.CPU_RATIO,
            ratio_of(
                PER_CONTAINER,
                f"rate({selector('container_cpu_usage_seconds_total', apps)}[5m])",
                selector(LIMITS, apps, 'resource="cpu"'),
            ),
            t.cpu,
            f"CPU of {CONTAINER}",
            f"CPU use of {CONTAINER} against its limit",
        ),
        (
            "ContainerMemoryHigh",
            rec.MEMORY_RATIO,
            ratio_of(
                PER_CONTAINER,
                selector("container_memory_working_set_bytes", apps),
                selector(LIMITS, apps, 'resource="memory"'),
            ),
            t.memory,
            f"Memory of {CONTAINER}",
            f"Working set of {CONTAINER} against its limit",
        ),
        (
            "VolumeFillingUp",
            rec.VOLUME_RATIO,
            ratio_of(
                PER_VOLUME,
                f"kubelet_volume_stats_used_bytes{{{volumes}}}",
                f"kubelet_volume_stats_capacity_bytes{{{volumes}}}",
            ),
            t.disk,
            "Volume {{ $labels.persistentvolumeclaim }}",
            "Volume {{ $labels.persistentvolumeclaim }}",
        ),
        (
            "FileDescriptorsExhausting",
            rec.FD_RATIO,
            # prometheus_client's process collector: the app's own descriptor gauges are never set.
            ratio_of(PER_INSTANCE, selector(m.PROCESS_FDS_OPEN, m.API), selector(m.PROCESS_FDS_MAX, m.API)),
            t.file_descriptors,
            "File descriptors of {{ $labels.instance }}",
            "Open file descriptors of the API process {{ $labels.instance }} against its limit",
        ),
    ]
    if database:
        resources.append(
            (
                "DatabasePoolSaturated",
                rec.POOL_RATIO,
                ratio_of(PER_INSTANCE, selector(m.DB_POOL, m.POOL_IN_USE), selector(m.DB_POOL, m.POOL_MAX)),
                t.db_pool,
                "Database pool of {{ $labels.instance }}",
                "The database connection pool of {{ $labels.instance }}",
            )
        )
    capacity = t.queue_depth.capacity
    resources.append(
        (
            "WorkerQueueSaturated",
            rec.QUEUE_RATIO,
            # ZCARD of arq's queue, from redis_exporter: no series while the queue is empty.
            f"max by (namespace, key) ({selector(m.REDIS_KEY_SIZE, m.QUEUE)}) / {capacity}",
            t.queue_depth,
            "Worker queue {{ $labels.key }}",
            f"Queue {{{{ $labels.key }}}} against its capacity of {capacity} jobs",
        )
    )
    return resources
