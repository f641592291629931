"""kube-prometheus-stack's Helm values and the objects that hand it the generated artifacts.

The generated rules become ``PrometheusRule`` objects, the dashboards
ConfigMaps labelled for Grafana's sidecar, and a ``ServiceMonitor`` scrapes
the API's Service by label under the job the rules select (``API_JOB``).
"""

from __future__ import annotations

import json
from typing import Any, Final

from infra.app_contract import API_METRICS_PATH
from infra.conventions import (
    ALERTMANAGER_RECEIVERS_SECRET,
    API_JOB,
    APP_NAMESPACE,
    DASHBOARD_LABEL,
    GRAFANA_ADMIN_SECRET,
    HTTP_PORT_NAME,
    LOKI_DATASOURCE_UID,
    LOKI_SERVICE,
    MONITORING_NAMESPACE,
    Naming,
    component_selector,
    workload_name,
)
from infra.render.monitoring.rules import RuleFile
from infra.settings.monitoring import MonitoringProfile

MONITORING_API: Final = "monitoring.coreos.com/v1"
# kube-prometheus-stack's own copies of the rules we generate with our routing in mind.
REPLACED_DEFAULT_RULES: Final = ("Watchdog", "InfoInhibitor")
UNREACHABLE_CONTROL_PLANE: Final = ("kubeScheduler", "kubeControllerManager", "kubeEtcd", "kubeProxy")


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
        # The managed control plane exposes no scheduler, controller manager or etcd
        # to scrape, and node kube-proxies bind their metrics to localhost: their
        # monitors would only feed KubeSchedulerDown & co, firing forever. Turning a
        # component off also drops its default rules (kube-prometheus-stack 88.0.0).
        **{component: {"enabled": False} for component in UNREACHABLE_CONTROL_PLANE},
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
                "secrets": [ALERTMANAGER_RECEIVERS_SECRET],
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
            # The volume is ReadWriteOnce (the chart's persistence.accessModes) on a Yandex network
            # disk, which attaches to one node at a time; the chart's Deployment rolls by
            # RollingUpdate (deploymentStrategy, values.yaml:79-80, templates/deployment.yaml:24-27
            # at grafana-12.10.0, the subchart kube-prometheus-stack 88.0.0 pins), so a new pod on
            # another node would wait for the old one's disk until the atomic release times out
            # and rolls back. Recreate stops the old pod first.
            "deploymentStrategy": {"type": "Recreate"},
            "sidecar": {"dashboards": {"enabled": True, "label": DASHBOARD_LABEL, "labelValue": "1"}},
            # Provisioned beside the chart's Prometheus data source (grafana.additionalDataSources,
            # values.yaml:1625 at kube-prometheus-stack-88.0.0).
            "additionalDataSources": [loki_data_source()],
        },
    }


def loki_data_source() -> dict[str, Any]:
    """Grafana reads Loki through its Service; log panels name the data source by its uid."""
    host, port = LOKI_SERVICE
    return {
        "name": "Loki",
        "type": "loki",
        "uid": LOKI_DATASOURCE_UID,
        "access": "proxy",
        "url": f"http://{host}.{MONITORING_NAMESPACE}.svc:{port}",
        "editable": False,
    }


def prometheus_rule(naming: Naming, rule_file: RuleFile) -> dict[str, Any]:
    return {
        "apiVersion": MONITORING_API,
        "kind": "PrometheusRule",
        "metadata": {
            "name": f"samokoder-{rule_file.name}",
            "namespace": MONITORING_NAMESPACE,
            "labels": naming.k8s_labels("samokoder-rules", "monitoring"),
        },
        "spec": rule_file.render(),
    }


def dashboard_config_map(naming: Naming, uid: str, dashboard: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": f"dashboard-{uid}",
            "namespace": MONITORING_NAMESPACE,
            "labels": {**naming.k8s_labels("samokoder-dashboards", "monitoring"), DASHBOARD_LABEL: "1"},
        },
        "data": {f"{uid}.json": json.dumps(dashboard, indent=2, sort_keys=True)},
    }


def api_service_monitor(naming: Naming) -> dict[str, Any]:
    """Scrapes the API's Service, found by its component labels, under ``API_JOB``."""
    name = workload_name("api")
    return {
        "apiVersion": MONITORING_API,
        "kind": "ServiceMonitor",
        "metadata": {
            "name": name,
            "namespace": APP_NAMESPACE,
            "labels": naming.k8s_labels(name, "monitoring"),
        },
        "spec": {
            "selector": {"matchLabels": component_selector("api")},
            "namespaceSelector": {"matchNames": [APP_NAMESPACE]},
            "endpoints": [
                {
                    "port": HTTP_PORT_NAME,
                    "path": API_METRICS_PATH,
                    "interval": "30s",
                    # The rules select the API by this job, whatever its Service is called.
                    "relabelings": [{"targetLabel": "job", "replacement": API_JOB}],
                }
            ],
        },
    }
