"""The exporters' Helm values and the blackbox Probe, as plain data.

The blackbox exporter requests ``/health`` and the site through their
Services, as users' requests arrive, so availability is measured the way it
is experienced; a ``Probe`` tells Prometheus what to probe, under the job the
alerts select (``BLACKBOX_JOB``).
"""

from __future__ import annotations

from typing import Any, Final

from infra.app_contract import API_PORT, FRONTEND_PORT, QUEUE_KEY
from infra.conventions import (
    APP_NAMESPACE,
    BLACKBOX_JOB,
    BLACKBOX_RELEASE,
    MONITORING_NAMESPACE,
    PUSHGATEWAY_PORT,
    Naming,
    workload_name,
)
from infra.render.charts import BLACKBOX_EXPORTER
from infra.render.k8s import ours
from infra.render.workloads.security import container_security, pod_security

BLACKBOX_PORT: Final = 9115
# The chart names its Service "<release>-<chart>".
BLACKBOX_ADDRESS: Final = (
    f"{BLACKBOX_RELEASE}-{BLACKBOX_EXPORTER.name}.{MONITORING_NAMESPACE}.svc:{BLACKBOX_PORT}"
)
PROBE_NAME: Final = "samokoder-availability"


def _restricted_and_small() -> dict[str, Any]:
    small = {"requests": {"cpu": "20m", "memory": "32Mi"}, "limits": {"cpu": "200m", "memory": "64Mi"}}
    return {"podSecurityContext": pod_security(), "securityContext": container_security(), "resources": small}


def redis_exporter_values(host: str, port: int) -> dict[str, Any]:
    """The exporter reads Redis as the app does, and the queue's depth (ZCARD of arq's sorted set)."""
    return {
        **_restricted_and_small(),
        "redisAddress": f"redis://{host}:{port}",
        # Exported as redis_key_size{key="arq:queue"}: the app's own queue gauge is never set.
        "extraArgs": {"check-single-keys": QUEUE_KEY},
        "serviceMonitor": {"enabled": True},
    }


def blackbox_values() -> dict[str, Any]:
    http = {"prober": "http", "timeout": "5s", "http": {"preferred_ip_protocol": "ip4"}}
    return {**_restricted_and_small(), "config": {"modules": {"http_2xx": http}}}


def pushgateway_values() -> dict[str, Any]:
    """The Pushgateway keeps what the restore drill pushed across restarts: a drill runs weekly or
    monthly, and a lost outcome would read as no drill at all until the next one (RestoreDrillStale).

    Keys at prometheus-pushgateway-3.8.0's values.yaml: serviceMonitor :316-351 (honorLabels, so the
    drill's own job and stack labels are stored as pushed), persistentVolume :380-408 (mounted at
    /data), extraArgs :79, securityContext (the pod's) :282, containerSecurityContext :289,
    automountServiceAccountToken :47 (it calls no API).
    """
    small = {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}}
    return {
        "securityContext": pod_security(),
        "containerSecurityContext": container_security(),
        "automountServiceAccountToken": False,
        "resources": small,
        "service": {"port": PUSHGATEWAY_PORT},
        "serviceMonitor": {"enabled": True, "namespace": MONITORING_NAMESPACE, "honorLabels": True},
        "persistentVolume": {"enabled": True, "size": "2Gi"},
        # The pushgateway's own flag: where it saves and, at start, reloads what was pushed.
        "extraArgs": ["--persistence.file=/data/pushgateway.db"],
    }


def probe_targets() -> list[str]:
    """The API's health and the site, addressed through their Services."""
    api, frontend = workload_name("api"), workload_name("frontend")
    site = "" if FRONTEND_PORT == 80 else f":{FRONTEND_PORT}"
    return [
        f"http://{api}.{APP_NAMESPACE}.svc:{API_PORT}/health",
        f"http://{frontend}.{APP_NAMESPACE}.svc{site}/",
    ]


def probe(naming: Naming) -> dict[str, Any]:
    """Prometheus probes the API's health and the site through the blackbox exporter."""
    spec = {
        "jobName": BLACKBOX_JOB,
        "interval": "30s",
        "module": "http_2xx",
        "prober": {"url": BLACKBOX_ADDRESS},
        "targets": {"staticConfig": {"static": probe_targets()}},
    }
    api = "monitoring.coreos.com/v1"
    return ours(api, "Probe", naming, PROBE_NAME, "monitoring", namespace=MONITORING_NAMESPACE, spec=spec)
