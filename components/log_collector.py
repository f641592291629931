"""The log collector: Grafana Alloy on every node, pushing each container's log to Loki.

Installed in the monitoring namespace (whose pods may read their node: node-exporter's), with the
NetworkPolicy that keeps it to Loki, the Kubernetes API and the DNS. What it reads, how it labels
and where it writes is infra/render/alloy_config.py's; its values, infra/render/log_collector.py's.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.kube import Component, helm_release, kubernetes_object
from components.monitoring import Monitoring
from infra.conventions import LOG_COLLECTOR_RELEASE, MONITORING_NAMESPACE, Naming
from infra.render import charts, log_collector


@dataclass(frozen=True)
class LogCollectorArgs:
    naming: Naming
    # Its namespace is the monitoring component's.
    monitoring: Monitoring


class LogCollector(Component):
    def __init__(self, name: str, args: LogCollectorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("samokoder:monitoring:LogCollector", name, None, opts)
        home = args.monitoring.namespace
        # The policy first: no collector pod runs a moment without it.
        policy = kubernetes_object(
            f"{name}-policy", log_collector.collector_policy(args.naming), self.opts(home)
        )
        helm_release(
            name,
            charts.ALLOY,
            MONITORING_NAMESPACE,
            log_collector.values(),
            self.opts(home, policy),
            release_name=LOG_COLLECTOR_RELEASE,
        )
        self.register_outputs({})
