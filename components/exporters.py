"""Exporters: Redis metrics, in-cluster blackbox probes of the API and the site, the drill's Pushgateway.

The Pushgateway holds what the restore drill pushes (infra/render/workloads/drill.py).

Every chart is pinned and run with the restricted security context.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.cluster_redis import ClusterRedis
from components.kube import Component, custom_resource, helm_release
from components.monitoring import Monitoring
from components.secrets import Secrets
from infra.conventions import (
    APP_NAMESPACE,
    BLACKBOX_RELEASE,
    MONITORING_NAMESPACE,
    PUSHGATEWAY_RELEASE,
    REDIS_EXPORTER_RELEASE,
    Naming,
)
from infra.render import charts
from infra.render.exporters import blackbox_values, probe, pushgateway_values, redis_exporter_values


@dataclass(frozen=True)
class ExportersArgs:
    naming: Naming
    # The Redis the exporter reads.
    redis: ClusterRedis
    # The monitoring release installs the ServiceMonitor and Probe CRDs.
    monitoring: Monitoring
    secrets: Secrets


class Exporters(Component):
    def __init__(self, name: str, args: ExportersArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("samokoder:monitoring:Exporters", name, None, opts)
        port = args.redis.port
        first = [args.monitoring.release, *args.secrets.external_secrets]
        helm_release(
            f"{name}-redis",
            charts.REDIS_EXPORTER,
            APP_NAMESPACE,
            args.redis.host.apply(lambda host: redis_exporter_values(host, port)),
            self.opts(*first),
            release_name=REDIS_EXPORTER_RELEASE,
        )
        blackbox = helm_release(
            f"{name}-blackbox",
            charts.BLACKBOX_EXPORTER,
            MONITORING_NAMESPACE,
            blackbox_values(),
            self.opts(*first),
            release_name=BLACKBOX_RELEASE,
        )
        custom_resource(f"{name}-probe", probe(args.naming), self.opts(*first, blackbox))
        # Where the restore drill leaves its outcome (infra/render/workloads/drill.py).
        helm_release(
            f"{name}-pushgateway",
            charts.PUSHGATEWAY,
            MONITORING_NAMESPACE,
            pushgateway_values(),
            self.opts(*first),
            release_name=PUSHGATEWAY_RELEASE,
        )
        self.register_outputs({})
