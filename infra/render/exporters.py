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
