"""Deployments, Services, autoscaling and disruption budgets of the app, as plain dicts.

Every container runs its image by digest with the command, port, health path
and writable paths of the app contract (infra/app_contract.py), the
restricted security context, and resources from the profile.
Nothing here depends on the release but the image fields: a release changes
the Deployments' images and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra import ingress_contract as edge
from infra.app_contract import (
    API,
    API_HEALTH_PATH,
    API_PORT,
    FRONTEND,
    FRONTEND_HEALTH_PATH,
    FRONTEND_PORT,
    WORKER,
    WORKER_CHECK,
    Process,
)
from infra.conventions import (
    APP_NAMESPACE,
    APP_SECRET,
    CONFIG_MAP,
    HTTP_PORT_NAME,
    Naming,
    Service,
    pod_selector,
    workload_name,
)
from infra.render.workloads.security import container_security, pod_security
from infra.settings.stack import StackSettings
from infra.settings.workloads import ContainerResources, Replicas, WorkloadsProfile

ZONE_KEY = "topology.kubernetes.io/zone"
# A pod behind the ingress keeps serving this long after it is told to stop: the controller
# learns of the ended endpoint, posts it to nginx, and nginx syncs it within a second
# (infra/ingress_contract.py: BACKENDS_SYNC_SECONDS). Without it, a rollout's or a removed
# canary's last requests meet a closed port (502).
DRAIN_SECONDS = 5 * edge.BACKENDS_SYNC_SECONDS
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


def _drain() -> dict[str, Any]:
    # The kubelet's own sleep, no binary in the image needed (KEP-3960: stable in 1.34, the stacks' version).
    return {"preStop": {"sleep": {"seconds": DRAIN_SECONDS}}}


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


# What a writable path may hold before the kubelet evicts the pod; generated projects are larger.
_SIZE = {"/app/workspace": "2Gi"}


def writable_volumes(process: Process) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """An emptyDir for each path the process writes: the root filesystem stays read-only."""
    named = [(path.strip("/").replace("/", "-"), path) for path in process.writable_paths]
    volumes = [{"name": name, "emptyDir": {"sizeLimit": _SIZE.get(path, "256Mi")}} for name, path in named]
    return volumes, [{"name": name, "mountPath": path} for name, path in named]


def _deployment(
    m: Meta,
    replicas: int | None,
    zones: int,
    container: dict[str, Any],
    volumes: list[dict[str, Any]],
    *,
    low_ports: bool = False,
) -> dict[str, Any]:
    scale = {} if replicas is None else {"replicas": replicas}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(m.name, m.labels),
        "spec": {
            **scale,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": m.selector},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": m.labels},
                "spec": {
                    "automountServiceAccountToken": False,
                    # Service links would put REDIS_PORT=tcp://... into the environment,
                    # where the worker expects a number (infra/app_contract.py).
                    "enableServiceLinks": False,
                    "securityContext": pod_security(low_ports=low_ports),
                    "topologySpreadConstraints": _spread(m.selector, zones),
                    "containers": [{**container, "securityContext": container_security()}],
                    "volumes": volumes,
                },
            },
        },
    }


def api_deployment(naming: Naming, spec: AppSpec, image: str) -> dict[str, Any]:
    return api_pods(meta(naming, "api"), spec, image)


def api_pods(m: Meta, spec: AppSpec, image: str) -> dict[str, Any]:
    """The API's Deployment under the name ``m`` gives: stable's, or the canary's beside it."""
    volumes, mounts = writable_volumes(API)
    container = {
        "name": "api",
        "image": image,
        # The image has no CMD: compose starts uvicorn, and so do we.
        "command": list(API.command),
        "ports": [{"name": HTTP_PORT_NAME, "containerPort": API_PORT}],
        "envFrom": app_environment(),
        "resources": _resources(spec.workloads.api),
        "readinessProbe": _http_probe(API_HEALTH_PATH, HTTP_PORT_NAME, 10),
        "livenessProbe": {**_http_probe(API_HEALTH_PATH, HTTP_PORT_NAME, 20), "initialDelaySeconds": 15},
        "lifecycle": _drain(),
        "volumeMounts": mounts,
    }
    # No replicas: the autoscaler owns them (autoscaler() starts it at its minimum);
    # a count here would reset the API to it on every release, mid-rollout.
    return _deployment(m, None, spec.zones, container, volumes)


def worker_deployment(naming: Naming, spec: AppSpec, image: str) -> dict[str, Any]:
    m = meta(naming, "worker")
    volumes, mounts = writable_volumes(WORKER)
    # arq has no HTTP endpoint; `arq --check` reads the health key the worker writes to Redis.
    check = {"exec": {"command": list(WORKER_CHECK)}}
    container = {
        "name": "worker",
        "image": image,
        "command": list(WORKER.command),
        "envFrom": app_environment(),
        "resources": _resources(spec.workloads.worker),
        "readinessProbe": {**check, "periodSeconds": 30, "timeoutSeconds": 10},
        "livenessProbe": {**check, "periodSeconds": 60, "timeoutSeconds": 10, "initialDelaySeconds": 60},
        "volumeMounts": mounts,
    }
    return _deployment(m, spec.replicas.worker, spec.zones, container, volumes)


def frontend_deployment(naming: Naming, spec: AppSpec, image: str) -> dict[str, Any]:
    m = meta(naming, "frontend")
    # nginx writes its cache and pid file; everything else stays read-only.
    volumes, mounts = writable_volumes(FRONTEND)
    container = {
        "name": "frontend",
        "image": image,
        "ports": [{"name": HTTP_PORT_NAME, "containerPort": FRONTEND_PORT}],
        "resources": _resources(spec.workloads.frontend),
        "readinessProbe": _http_probe(FRONTEND_HEALTH_PATH, HTTP_PORT_NAME, 10),
        "livenessProbe": _http_probe(FRONTEND_HEALTH_PATH, HTTP_PORT_NAME, 20),
        "lifecycle": _drain(),
        "volumeMounts": mounts,
    }
    return _deployment(
        m,
        spec.replicas.frontend,
        spec.zones,
        container,
        volumes,
        low_ports=True,
    )


def service(naming: Naming, name: Service, port: int) -> dict[str, Any]:
    return service_of(meta(naming, name), port)


def service_of(m: Meta, port: int) -> dict[str, Any]:
    # Awaited with pulumi-kubernetes' default ten minutes, on purpose: a Service waits only
    # while a selected pod exists unready (provider/pkg/await/service.go:411-416), and no pod
    # of ours waits in an init container, while the API's pods are created only once the
    # migration has run (components/workloads.py). A pod that one day waits for something
    # longer makes this Service (and its Deployment) overdue in tests/test_awaits.py.
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(m.name, m.labels),
        "spec": {
            "selector": m.selector,
            "ports": [
                {"name": HTTP_PORT_NAME, "port": port, "targetPort": HTTP_PORT_NAME, "protocol": "TCP"}
            ],
        },
    }


def pod_disruption_budget(naming: Naming, name: Service) -> dict[str, Any]:
    return budget_of(meta(naming, name))


def budget_of(m: Meta) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _metadata(m.name, m.labels),
        # One at a time: drains proceed, and with two or more replicas one always serves.
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": m.selector}},
    }


def api_autoscaler(naming: Naming, spec: AppSpec) -> dict[str, Any]:
    return autoscaler(meta(naming, "api"), spec.replicas.api, spec.workloads.api_max_replicas)


def autoscaler(m: Meta, minimum: int, maximum: int) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _metadata(m.name, m.labels),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": m.name},
            "minReplicas": minimum,
            "maxReplicas": maximum,
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
