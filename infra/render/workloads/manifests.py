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
    DATABASE_CLUSTER,
    HTTP_PORT_NAME,
    Naming,
    Service,
    pod_selector,
    workload_name,
)
from infra.render.k8s import manifest
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
    # The database cluster that serves the app: the running one, or a restored one after a cut-over.
    database: str = DATABASE_CLUSTER

    @classmethod
    def of(cls, settings: StackSettings) -> AppSpec:
        return cls(
            stack=settings.stack,
            domain=settings.identity.domain,
            zones=len(settings.network.zones),
            replicas=settings.replicas,
            workloads=settings.workloads,
            database=settings.database_cluster,
        )


@dataclass(frozen=True)
class Meta:
    name: str
    labels: dict[str, str]
    selector: dict[str, str]

    def metadata(self) -> dict[str, Any]:
        return {"name": self.name, "namespace": APP_NAMESPACE, "labels": self.labels}


def meta(naming: Naming, service: Service) -> Meta:
    return named(naming, workload_name(service), service)


def named(naming: Naming, name: str, component: str) -> Meta:
    return Meta(name, naming.k8s_labels(name, component), pod_selector(name))


def _http_probes(path: str, *, delay: bool = False) -> dict[str, Any]:
    def probe(period: int) -> dict[str, Any]:
        check = {"httpGet": {"path": path, "port": HTTP_PORT_NAME}, "periodSeconds": period}
        return {**check, "timeoutSeconds": 3, "failureThreshold": 3}

    liveness = {**probe(20), "initialDelaySeconds": 15} if delay else probe(20)
    return {"readinessProbe": probe(10), "livenessProbe": liveness}


def job_container(name: str, image: str, command: list[str], **fields: Any) -> dict[str, Any]:
    """A Job's container of the api image: small requests, the hardened security context."""
    resources = {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}
    return {
        "name": name,
        "image": image,
        "command": command,
        **fields,
        "resources": resources,
        "securityContext": container_security(),
    }


def app_environment() -> list[dict[str, Any]]:
    """Configuration from the ConfigMap, secrets only from the Secret External Secrets keeps."""
    return [{"configMapRef": {"name": CONFIG_MAP}}, {"secretRef": {"name": APP_SECRET}}]


# What a writable path may hold before the kubelet evicts the pod; generated projects are larger.
_SIZE = {"/app/workspace": "2Gi"}


def writable_volumes(process: Process) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """An emptyDir for each path the process writes: the root filesystem stays read-only."""
    paths = [(path.strip("/").replace("/", "-"), path) for path in process.writable_paths]
    volumes = [{"name": name, "emptyDir": {"sizeLimit": _SIZE.get(path, "256Mi")}} for name, path in paths]
    return volumes, [{"name": name, "mountPath": path} for name, path in paths]


PROCESSES: dict[Service, Process] = {"api": API, "worker": WORKER, "frontend": FRONTEND}


def _deployment(
    naming: Naming,
    service: Service,
    spec: AppSpec,
    image: str,
    *,
    replicas: int | None,
    port: int | None = None,
    **container: Any,
) -> dict[str, Any]:
    """``service``'s Deployment; ``container``: what its one container adds to the common fields."""
    m = meta(naming, service)
    volumes, mounts = writable_volumes(PROCESSES[service])
    size: ContainerResources = getattr(spec.workloads, service)
    requests = {"cpu": f"{size.cpu_request_m}m", "memory": f"{size.memory_request_mib}Mi"}
    limits = {"cpu": f"{size.cpu_limit_m}m", "memory": f"{size.memory_limit_mib}Mi"}
    # With one zone there is nothing to spread over; with more, it is a rule.
    spread = {"maxSkew": 1, "topologyKey": ZONE_KEY, "labelSelector": {"matchLabels": m.selector}}
    spread["whenUnsatisfiable"] = "DoNotSchedule" if spec.zones > 1 else "ScheduleAnyway"
    if port is not None:
        container["ports"] = [{"name": HTTP_PORT_NAME, "containerPort": port}]
        # Behind the ingress: drain (DRAIN_SECONDS) by the kubelet's own sleep, no binary in the
        # image needed (KEP-3960: stable in 1.34, the stacks' version).
        container["lifecycle"] = {"preStop": {"sleep": {"seconds": DRAIN_SECONDS}}}
    pod = {
        "automountServiceAccountToken": False,
        # Service links would put REDIS_PORT=tcp://... into the environment,
        # where the worker expects a number (infra/app_contract.py).
        "enableServiceLinks": False,
        # nginx binds port 80 as a non-root user.
        "securityContext": pod_security(low_ports=service == "frontend"),
        "topologySpreadConstraints": [spread],
        "containers": [
            {
                "name": service,
                "image": image,
                **container,
                "resources": {"requests": requests, "limits": limits},
                "volumeMounts": mounts,
                "securityContext": container_security(),
            }
        ],
        "volumes": volumes,
    }
    rollout = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
    return manifest(
        "apps/v1",
        "Deployment",
        m.metadata(),
        spec={
            **({} if replicas is None else {"replicas": replicas}),
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": m.selector},
            "strategy": rollout,
            "template": {"metadata": {"labels": m.labels}, "spec": pod},
        },
    )


def api_deployment(naming: Naming, spec: AppSpec, image: str) -> dict[str, Any]:
    # No replicas: the autoscaler owns them (api_autoscaler() starts it at its minimum);
    # a count here would reset the API to it on every release, mid-rollout.
    return _deployment(
        naming,
        "api",
        spec,
        image,
        replicas=None,
        port=API_PORT,
        # The image has no CMD: compose starts uvicorn, and so do we.
        command=list(API.command),
        envFrom=app_environment(),
        **_http_probes(API_HEALTH_PATH, delay=True),
    )


def worker_deployment(naming: Naming, spec: AppSpec, image: str) -> dict[str, Any]:
    # arq has no HTTP endpoint; `arq --check` reads the health key the worker writes to Redis.
    check = {"exec": {"command": list(WORKER_CHECK)}, "timeoutSeconds": 10}
    return _deployment(
        naming,
        "worker",
        spec,
        image,
        replicas=spec.replicas.worker,
        command=list(WORKER.command),
        envFrom=app_environment(),
        readinessProbe={**check, "periodSeconds": 30},
        livenessProbe={**check, "periodSeconds": 60, "initialDelaySeconds": 60},
    )


def frontend_deployment(naming: Naming, spec: AppSpec, image: str) -> dict[str, Any]:
    # nginx writes its cache and pid file (FRONTEND's writable paths); everything else stays read-only.
    probes = _http_probes(FRONTEND_HEALTH_PATH)
    return _deployment(
        naming, "frontend", spec, image, replicas=spec.replicas.frontend, port=FRONTEND_PORT, **probes
    )


def service(naming: Naming, name: Service, port: int) -> dict[str, Any]:
    # Awaited with pulumi-kubernetes' default ten minutes, on purpose: a Service waits only
    # while a selected pod exists unready (provider/pkg/await/service.go:411-416), and no pod
    # of ours waits in an init container, while the API's pods are created only once the
    # migration has run (components/workloads.py). A pod that one day waits for something
    # longer makes this Service (and its Deployment) overdue in tests/test_awaits.py.
    m = meta(naming, name)
    port_spec = {"name": HTTP_PORT_NAME, "port": port, "targetPort": HTTP_PORT_NAME, "protocol": "TCP"}
    return manifest("v1", "Service", m.metadata(), spec={"selector": m.selector, "ports": [port_spec]})


def pod_disruption_budget(naming: Naming, name: Service) -> dict[str, Any]:
    return budget_of(meta(naming, name))


def budget_of(m: Meta) -> dict[str, Any]:
    # One at a time: drains proceed, and with two or more replicas one always serves.
    spec = {"maxUnavailable": 1, "selector": {"matchLabels": m.selector}}
    return manifest("policy/v1", "PodDisruptionBudget", m.metadata(), spec=spec)


def api_autoscaler(naming: Naming, spec: AppSpec) -> dict[str, Any]:
    m = meta(naming, "api")
    cpu = {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": HPA_CPU_PERCENT}}
    return manifest(
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
        m.metadata(),
        spec={
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": m.name},
            "minReplicas": spec.replicas.api,
            "maxReplicas": spec.workloads.api_max_replicas,
            "metrics": [{"type": "Resource", "resource": cpu}],
        },
    )
