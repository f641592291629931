"""Exporters: Redis metrics, and blackbox probes of the API and the frontend from inside the cluster.

The blackbox exporter requests ``/health`` and the site through their
Services, as users' requests arrive, so availability is measured the way it
is experienced; a ``Probe`` tells Prometheus what to probe. Both charts are
pinned and run with the restricted security context.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import pulumi

from components.kube import Chart, custom_resource, helm_release
from infra.conventions import APP_NAMESPACE, Naming
from infra.render.secrets.catalog import APP_SECRET, REDIS_TLS_PORT
from infra.render.workloads.manifests import API_PORT, meta
from infra.render.workloads.security import container_security, pod_security

REPOSITORY: Final = "https://prometheus-community.github.io/helm-charts"
REDIS_EXPORTER: Final = Chart("prometheus-redis-exporter", "6.29.0", REPOSITORY)
BLACKBOX: Final = Chart("prometheus-blackbox-exporter", "11.17.2", REPOSITORY)
MONITORING_NAMESPACE: Final = "monitoring"
BLACKBOX_RELEASE: Final = "samokoder-blackbox"
BLACKBOX_PORT: Final = 9115
REDIS_EXPORTER_RELEASE: Final = "samokoder-redis-exporter"
# The chart names its Service "<release>-prometheus-blackbox-exporter".
BLACKBOX_ADDRESS: Final = (
    f"{BLACKBOX_RELEASE}-prometheus-blackbox-exporter.{MONITORING_NAMESPACE}.svc:{BLACKBOX_PORT}"
)


@dataclass(frozen=True)
class ExportersArgs:
    naming: Naming
    redis_host: pulumi.Input[str]
    # The monitoring release (ServiceMonitor and Probe CRDs) and the app's Secret.
    depends_on: list[pulumi.Resource]


def _restricted() -> dict[str, Any]:
    return {"podSecurityContext": pod_security(), "securityContext": container_security()}


def redis_exporter_values(redis_host: str) -> dict[str, Any]:
    return {
        **_restricted(),
        "redisAddress": f"rediss://{redis_host}:{REDIS_TLS_PORT}",
        "auth": {"enabled": True, "secret": {"name": APP_SECRET, "key": "REDIS_PASSWORD"}},
        "serviceMonitor": {"enabled": True},
        "resources": {
            "requests": {"cpu": "20m", "memory": "32Mi"},
            "limits": {"cpu": "200m", "memory": "64Mi"},
        },
    }


def blackbox_values() -> dict[str, Any]:
    return {
        **_restricted(),
        "config": {
            "modules": {
                "http_2xx": {"prober": "http", "timeout": "5s", "http": {"preferred_ip_protocol": "ip4"}},
            }
        },
        "resources": {
            "requests": {"cpu": "20m", "memory": "32Mi"},
            "limits": {"cpu": "200m", "memory": "64Mi"},
        },
    }


def probe(naming: Naming) -> dict[str, Any]:
    """Prometheus probes the API's health and the site through the blackbox exporter."""
    api, frontend = meta(naming, "api").name, meta(naming, "frontend").name
    name = "samokoder-availability"
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "Probe",
        "metadata": {
            "name": name,
            "namespace": MONITORING_NAMESPACE,
            "labels": naming.k8s_labels(name, "monitoring"),
        },
        "spec": {
            "jobName": "samokoder-blackbox",
            "interval": "30s",
            "module": "http_2xx",
            "prober": {"url": BLACKBOX_ADDRESS},
            "targets": {
                "staticConfig": {
                    "static": [
                        f"http://{api}.{APP_NAMESPACE}.svc:{API_PORT}/health",
                        f"http://{frontend}.{APP_NAMESPACE}.svc/",
                    ]
                }
            },
        },
    }


class Exporters(pulumi.ComponentResource):
    def __init__(self, name: str, args: ExportersArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("samokoder:monitoring:Exporters", name, None, opts)
        after = pulumi.ResourceOptions(parent=self, depends_on=args.depends_on)
        helm_release(
            f"{name}-redis",
            REDIS_EXPORTER,
            APP_NAMESPACE,
            pulumi.Output.from_input(args.redis_host).apply(redis_exporter_values),
            after,
            release_name=REDIS_EXPORTER_RELEASE,
        )
        blackbox = helm_release(
            f"{name}-blackbox",
            BLACKBOX,
            MONITORING_NAMESPACE,
            blackbox_values(),
            after,
            release_name=BLACKBOX_RELEASE,
        )
        custom_resource(
            f"{name}-probe",
            probe(args.naming),
            pulumi.ResourceOptions(parent=self, depends_on=[*args.depends_on, blackbox]),
        )
        self.register_outputs({})
