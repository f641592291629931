"""Monitoring: kube-prometheus-stack with the platform's rules, routing and dashboards.

Prometheus retention and storage come from the profile, Alertmanager runs the
generated configuration, Grafana its dashboard sidecar; then the objects
``infra/render/monitoring/stack.py`` renders from the generated artifacts.

Two Secrets are inputs, not made here: the Alertmanager receivers' files and
Grafana's admin login. The secrets component delivers both from Lockbox
through External Secrets.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.kube import Component, HelmRelease, KubernetesObject, helm_release, kubernetes_object
from components.kube import namespace as kube_namespace
from infra.conventions import MONITORING_NAMESPACE, Naming
from infra.render import charts
from infra.render.monitoring import stack
from infra.render.monitoring.bundle import MonitoringArtifacts
from infra.settings.monitoring import MonitoringProfile


@dataclass(frozen=True)
class MonitoringArgs:
    naming: Naming
    profile: MonitoringProfile
    artifacts: MonitoringArtifacts
    # The app's namespace, where the API's ServiceMonitor lives: it waits for it.
    app_namespace: KubernetesObject


class Monitoring(Component):
    # The release that installs the monitoring CRDs (ServiceMonitor, PodMonitor, ...).
    release: HelmRelease
    namespace: KubernetesObject

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("samokoder:monitoring:Monitoring", name, None, opts)
        naming, artifacts = args.naming, args.artifacts
        labels = naming.k8s_labels("monitoring", "monitoring")
        # node-exporter reads the host: it cannot run restricted.
        self.namespace = kube_namespace(
            f"{name}-namespace", MONITORING_NAMESPACE, labels, "privileged", self.opts()
        )
        self.release = helm_release(
            f"{name}-stack",
            charts.KUBE_PROMETHEUS_STACK,
            MONITORING_NAMESPACE,
            stack.chart_values(args.profile, artifacts.alertmanager),
            self.opts(self.namespace),
        )
        for rule_file in artifacts.rule_files:
            rule = stack.prometheus_rule(naming, rule_file)
            kubernetes_object(f"{name}-rules-{rule_file.name}", rule, self.opts(self.release))
        for uid, dashboard in artifacts.dashboards.items():
            config_map = stack.dashboard_config_map(naming, uid, dashboard)
            kubernetes_object(f"{name}-dashboard-{uid}", config_map, self.opts(self.namespace))
        monitor = stack.api_service_monitor(naming)
        kubernetes_object(f"{name}-api-monitor", monitor, self.opts(self.release, args.app_namespace))
        self.register_outputs({"release_status": self.release.status})
