"""Monitoring: kube-prometheus-stack with the platform's rules, routing and dashboards.

Installs kube-prometheus-stack by Helm (chart version pinned) into its own
namespace with Prometheus retention and storage from the profile, Alertmanager
running the generated configuration, and Grafana with its admin password from
a Secret and the dashboard sidecar; then applies the objects
``infra/render/monitoring/stack.py`` renders from the generated artifacts:
one ``PrometheusRule`` per rule file, one ConfigMap per dashboard, and the
API's ``ServiceMonitor``.

Two Secrets are inputs, not made here: the Alertmanager receivers' files and
Grafana's admin login. The secrets component delivers both from Lockbox
through External Secrets.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.kube import HelmRelease, KubernetesObject, helm_release, kubernetes_object
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


class Monitoring(pulumi.ComponentResource):
    # The release that installs the monitoring CRDs (ServiceMonitor, PodMonitor, ...).
    release: HelmRelease
    namespace: KubernetesObject

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("samokoder:monitoring:Monitoring", name, None, opts)
        naming, artifacts = args.naming, args.artifacts
        child = pulumi.ResourceOptions(parent=self)

        self.namespace = kube_namespace(
            f"{name}-namespace",
            MONITORING_NAMESPACE,
            naming.k8s_labels("monitoring", "monitoring"),
            # node-exporter reads the host: it cannot run restricted.
            "privileged",
            child,
        )
        self.release = helm_release(
            f"{name}-stack",
            charts.KUBE_PROMETHEUS_STACK,
            MONITORING_NAMESPACE,
            stack.chart_values(args.profile, artifacts.alertmanager),
            pulumi.ResourceOptions(parent=self, depends_on=[self.namespace]),
        )
        after_release = pulumi.ResourceOptions(parent=self, depends_on=[self.release])
        for rule_file in artifacts.rule_files:
            kubernetes_object(
                f"{name}-rules-{rule_file.name}", stack.prometheus_rule(naming, rule_file), after_release
            )
        for uid, dashboard in artifacts.dashboards.items():
            kubernetes_object(
                f"{name}-dashboard-{uid}",
                stack.dashboard_config_map(naming, uid, dashboard),
                child.merge(pulumi.ResourceOptions(depends_on=[self.namespace])),
            )
        kubernetes_object(
            f"{name}-api-monitor",
            stack.api_service_monitor(naming),
            pulumi.ResourceOptions(parent=self, depends_on=[self.release, args.app_namespace]),
        )
        self.register_outputs({"release_status": self.release.status})
