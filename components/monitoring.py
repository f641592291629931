"""Monitoring: kube-prometheus-stack with the platform's rules, routing and dashboards.

Installs kube-prometheus-stack by Helm (chart version pinned) into its own
namespace with Prometheus retention and storage from the profile, Alertmanager
running the generated configuration, and Grafana with its admin password from
a Secret and the dashboard sidecar. The generated rules become
``PrometheusRule`` objects, the dashboards labelled ConfigMaps, and a
``ServiceMonitor`` scrapes the API's Service by label.

Two Secrets are inputs, not made here: ``samokoder-alertmanager-receivers``
(files the receivers read: bot token, SMTP password, PagerDuty key, watchdog
URL) and ``samokoder-grafana-admin``. The secrets component delivers both from
Lockbox through External Secrets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

import pulumi
import pulumi_kubernetes as k8s

from components.kube import Chart, helm_release
from components.kube import namespace as kube_namespace
from infra.conventions import Naming
from infra.render.monitoring import contract
from infra.render.monitoring.alertmanager import RECEIVERS_SECRET
from infra.render.monitoring.bundle import MonitoringArtifacts
from infra.settings.monitoring import MonitoringProfile

# Ships prometheus-operator 0.93, the version of the CRD schemas we validate against.
CHART: Final = Chart("kube-prometheus-stack", "88.0.0", "https://prometheus-community.github.io/helm-charts")
NAMESPACE: Final = "monitoring"
GRAFANA_ADMIN_SECRET: Final = "samokoder-grafana-admin"
DASHBOARD_LABEL: Final = "grafana_dashboard"
# kube-prometheus-stack's own copies of the rules we generate with our routing in mind.
REPLACED_DEFAULT_RULES: Final = ("Watchdog", "InfoInhibitor")


@dataclass(frozen=True)
class MonitoringArgs:
    naming: Naming
    profile: MonitoringProfile
    artifacts: MonitoringArtifacts
    # The namespace of the app's Services, which the ServiceMonitor watches; an
    # output of the Namespace, so the ServiceMonitor waits for it.
    app_namespace: pulumi.Input[str]


def chart_values(profile: MonitoringProfile, alertmanager_config: dict[str, Any]) -> dict[str, Any]:
    """Helm values of the kube-prometheus-stack release."""
    # Pick up every PrometheusRule, ServiceMonitor, PodMonitor and Probe in the
    # cluster, not only those labelled with this release's name.
    select_all = {
        f"{kind}SelectorNilUsesHelmValues": False
        for kind in ("rule", "serviceMonitor", "podMonitor", "probe")
    }
    return {
        "defaultRules": {"disabled": {rule: True for rule in REPLACED_DEFAULT_RULES}},
        "prometheus": {
            "prometheusSpec": {
                **select_all,
                "retention": f"{profile.retention_days}d",
                "storageSpec": {
                    "volumeClaimTemplate": {
                        "spec": {
                            "storageClassName": profile.storage_class,
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": f"{profile.storage_gb}Gi"}},
                        }
                    }
                },
            }
        },
        "alertmanager": {
            "config": alertmanager_config,
            "alertmanagerSpec": {
                # Mounted at /etc/alertmanager/secrets/<name>/, where the *_file fields point.
                "secrets": [RECEIVERS_SECRET],
            },
        },
        "grafana": {
            "admin": {
                "existingSecret": GRAFANA_ADMIN_SECRET,
                "userKey": "admin-user",
                "passwordKey": "admin-password",  # pragma: allowlist secret
            },
            "persistence": {
                "enabled": True,
                "storageClassName": profile.storage_class,
                "size": f"{profile.grafana_storage_gb}Gi",
            },
            "sidecar": {"dashboards": {"enabled": True, "label": DASHBOARD_LABEL, "labelValue": "1"}},
        },
    }


class Monitoring(pulumi.ComponentResource):
    release_status: pulumi.Output[Any]
    # The release that installs the monitoring CRDs (ServiceMonitor, PodMonitor, ...).
    release: k8s.helm.v3.Release
    namespace: k8s.core.v1.Namespace
    artifacts: MonitoringArtifacts

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("samokoder:monitoring:Monitoring", name, None, opts)
        naming, artifacts = args.naming, args.artifacts
        # Kept for synth, which writes exactly what was deployed.
        self.artifacts = artifacts
        child = pulumi.ResourceOptions(parent=self)

        namespace = kube_namespace(
            f"{name}-namespace",
            NAMESPACE,
            naming.k8s_labels("monitoring", "monitoring"),
            # node-exporter reads the host: it cannot run restricted.
            "privileged",
            child,
        )
        release = helm_release(
            f"{name}-stack",
            CHART,
            namespace.metadata.name,
            chart_values(args.profile, artifacts.alertmanager),
            child,
        )
        after_release = pulumi.ResourceOptions(parent=self, depends_on=[release])

        for rule_file in artifacts.rule_files:
            k8s.apiextensions.CustomResource(
                f"{name}-rules-{rule_file.name}",
                api_version="monitoring.coreos.com/v1",
                kind="PrometheusRule",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=f"samokoder-{rule_file.name}",
                    namespace=NAMESPACE,
                    labels=naming.k8s_labels("samokoder-rules", "monitoring"),
                ),
                spec=rule_file.render(),
                opts=after_release,
            )
        for uid, dashboard in artifacts.dashboards.items():
            k8s.core.v1.ConfigMap(
                f"{name}-dashboard-{uid}",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=f"dashboard-{uid}",
                    namespace=NAMESPACE,
                    labels={**naming.k8s_labels("samokoder-dashboards", "monitoring"), DASHBOARD_LABEL: "1"},
                ),
                data={f"{uid}.json": json.dumps(dashboard, indent=2, sort_keys=True)},
                opts=child.merge(pulumi.ResourceOptions(depends_on=[namespace])),
            )
        k8s.apiextensions.CustomResource(
            f"{name}-api-monitor",
            api_version="monitoring.coreos.com/v1",
            kind="ServiceMonitor",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="samokoder-api",
                namespace=args.app_namespace,
                labels=naming.k8s_labels("samokoder-api", "monitoring"),
            ),
            spec={
                "selector": {
                    "matchLabels": {
                        "app.kubernetes.io/part-of": "samokoder",
                        "app.kubernetes.io/component": "api",
                    }
                },
                "namespaceSelector": {"matchNames": [args.app_namespace]},
                "endpoints": [
                    {
                        "port": "http",
                        "path": "/metrics",
                        "interval": "30s",
                        # The rules select the API by this job, whatever its Service is called.
                        "relabelings": [{"targetLabel": "job", "replacement": contract.API_JOB}],
                    }
                ],
            },
            opts=after_release,
        )
        self.release = release
        self.namespace = namespace
        self.release_status = release.status
        self.register_outputs({"release_status": release.status})
