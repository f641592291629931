"""Deployments, Services, autoscaling, disruption budgets and the Ingress of the app, as plain dicts.

Every container runs its image by digest with the restricted security
context, explicit writable volumes, probes and resources from the profile.
Nothing here depends on the release but the image fields: a release changes
the Deployments' images and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.app_contract import API_PORT, FRONTEND_PORT
from infra.conventions import (
    APP_NAMESPACE,
    APP_SECRET,
    CLUSTER_ISSUER,
    CONFIG_MAP,
    INGRESS_CLASS,
    TLS_SECRET,
    Naming,
    Service,
    pod_selector,
    workload_name,
)
from infra.render.workloads.security import container_security, pod_security
from infra.settings.stack import StackSettings
from infra.settings.workloads import ContainerResources, Replicas, WorkloadsProfile

ZONE_KEY = "topology.kubernetes.io/zone"
# Scale out before the CPU warning fires (thresholds.cpu.warning is 70 %).
HPA_CPU_PERCENT = 60


@dataclass(frozen=True)
class AppSpec:
    """What the app's objects are rendered from: the part of a stack's settings they read."""

    stack: str
    domain: str
    zones: int
    replicas: Replicas
    workloads: WorkloadsProfile

    @classmethod
    def of(cls, settings: StackSettings) -> AppSpec:
        return cls(
            stack=settings.stack,
            domain=settings.identity.domain,
            zones=len(settings.network.zones),
            replicas=settings.replicas,
            workloads=settings.workloads,
        )


@dataclass(frozen=True)
class Meta:
    name: str
    labels: dict[str, str]
    selector: dict[str, str]


def meta(naming: Naming, service: Service) -> Meta:
    name = workload_name(service)
    return Meta(name, naming.k8s_labels(name, service), pod_selector(name))


def _metadata(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"name": name, "namespace": APP_NAMESPACE, "labels": labels}


def _resources(profile: ContainerResources) -> dict[str, Any]:
    return {
        "requests": {"cpu": f"{profile.cpu_request_m}m", "memory": f"{profile.memory_request_mib}Mi"},
        "limits": {"cpu": f"{profile.cpu_limit_m}m", "memory": f"{profile.memory_limit_mib}Mi"},
    }


def _http_probe(path: str, port: str, period: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": port},
        "periodSeconds": period,
        "timeoutSeconds": 3,
        "failureThreshold": 3,
    }


def app_environment() -> list[dict[str, Any]]:
    """Configuration from the ConfigMap, secrets only from the Secret External Secrets keeps."""
    return [{"configMapRef": {"name": CONFIG_MAP}}, {"secretRef": {"name": APP_SECRET}}]


def _spread(selector: dict[str, str], zones: int) -> list[dict[str, Any]]:
    return [
        {
            "maxSkew": 1,
            "topologyKey": ZONE_KEY,
            # With one zone there is nothing to spread over; with more, it is a rule.
            "whenUnsatisfiable": "DoNotSchedule" if zones > 1 else "ScheduleAnyway",
            "labelSelector": {"matchLabels": selector},
        }
    ]


def _tmp(name: str = "tmp", path: str = "/tmp") -> tuple[dict[str, Any], dict[str, Any]]:
    return {"name": name, "emptyDir": {"sizeLimit": "256Mi"}}, {"name": name, "mountPath": path}


def _deployment(
    m: Meta,
    replicas: int,
    zones: int,
    container: dict[str, Any],
    volumes: list[dict[str, Any]],
    *,
    low_ports: bool = False,
) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(m.name, m.labels),
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": m.selector},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": m.labels},
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": pod_security(low_ports=low_ports),
                    "topologySpreadConstraints": _spread(m.selector, zones),
                    "containers": [{**container, "securityContext": container_security()}],
                    "volumes": volumes,
                },
            },
        },
    }


def api_deployment(naming: Naming, spec: AppSpec, image: str) -> dict[str, Any]:
    m = meta(naming, "api")
    volume, mount = _tmp()
    container = {
        "name": "api",
        "image": image,
        "ports": [{"name": "http", "containerPort": API_PORT}],
        "envFrom": app_environment(),
        "resources": _resources(spec.workloads.api),
        "readinessProbe": _http_probe("/health", "http", 10),
        "livenessProbe": {**_http_probe("/health", "http", 20), "initialDelaySeconds": 15},
        "volumeMounts": [mount],
    }
    return _deployment(m, spec.replicas.api, spec.zones, container, [volume])


def worker_deployment(naming: Naming, spec: AppSpec, image: str) -> dict[str, Any]:
    m = meta(naming, "worker")
    volume, mount = _tmp()
    # arq has no HTTP endpoint; `arq --check` reads the health key the worker writes to Redis.
    check = {"exec": {"command": ["arq", "--check", spec.workloads.worker_settings]}}
    container = {
        "name": "worker",
        "image": image,
        "command": ["arq", spec.workloads.worker_settings],
        "envFrom": app_environment(),
        "resources": _resources(spec.workloads.worker),
        "readinessProbe": {**check, "periodSeconds": 30, "timeoutSeconds": 10},
        "livenessProbe": {**check, "periodSeconds": 60, "timeoutSeconds": 10, "initialDelaySeconds": 60},
        "volumeMounts": [mount],
    }
    return _deployment(m, spec.replicas.worker, spec.zones, container, [volume])


def frontend_deployment(naming: Naming, spec: AppSpec, image: str) -> dict[str, Any]:
    m = meta(naming, "frontend")
    # The static server writes its cache and pid file; everything else stays read-only.
    writable = [_tmp(), _tmp("cache", "/var/cache/nginx"), _tmp("run", "/var/run")]
    container = {
        "name": "frontend",
        "image": image,
        "ports": [{"name": "http", "containerPort": FRONTEND_PORT}],
        "resources": _resources(spec.workloads.frontend),
        "readinessProbe": _http_probe("/", "http", 10),
        "livenessProbe": _http_probe("/", "http", 20),
        "volumeMounts": [mount for _, mount in writable],
    }
    return _deployment(
        m,
        spec.replicas.frontend,
        spec.zones,
        container,
        [volume for volume, _ in writable],
        low_ports=True,
    )


def service(naming: Naming, name: Service, port: int) -> dict[str, Any]:
    m = meta(naming, name)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(m.name, m.labels),
        "spec": {
            "selector": m.selector,
            "ports": [{"name": "http", "port": port, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def pod_disruption_budget(naming: Naming, name: Service) -> dict[str, Any]:
    m = meta(naming, name)
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _metadata(m.name, m.labels),
        # One at a time: drains proceed, and with two or more replicas one always serves.
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": m.selector}},
    }


def api_autoscaler(naming: Naming, spec: AppSpec) -> dict[str, Any]:
    m = meta(naming, "api")
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _metadata(m.name, m.labels),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": m.name},
            "minReplicas": spec.replicas.api,
            "maxReplicas": spec.workloads.api_max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": HPA_CPU_PERCENT},
                    },
                }
            ],
        },
    }


def config_map(naming: Naming, spec: AppSpec) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(CONFIG_MAP, naming.k8s_labels(CONFIG_MAP, "config")),
        "data": {
            "SAMOKODER_ENVIRONMENT": spec.stack,
            "SAMOKODER_PUBLIC_URL": f"https://{spec.domain}",
            "SAMOKODER_LOG_FORMAT": "json",
        },
    }


def ingress(naming: Naming, spec: AppSpec) -> dict[str, Any]:
    api, frontend = meta(naming, "api"), meta(naming, "frontend")

    def path(value: str, kind: str, target: Meta, port: int) -> dict[str, Any]:
        return {
            "path": value,
            "pathType": kind,
            "backend": {"service": {"name": target.name, "port": {"number": port}}},
        }

    name = "samokoder"
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            **_metadata(name, naming.k8s_labels(name, "ingress")),
            "annotations": {"cert-manager.io/cluster-issuer": CLUSTER_ISSUER},
        },
        "spec": {
            "ingressClassName": INGRESS_CLASS,
            "tls": [{"hosts": [spec.domain], "secretName": TLS_SECRET}],
            "rules": [
                {
                    "host": spec.domain,
                    "http": {
                        "paths": [
                            path("/api", "Prefix", api, API_PORT),
                            path("/health", "Exact", api, API_PORT),
                            path("/", "Prefix", frontend, FRONTEND_PORT),
                        ]
                    },
                }
            ],
        },
    }
