"""The app's workloads: selectors that find their pods, rollouts without downtime, scaling before alerts."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

import kubernetes_validate
import pytest

from infra import app_contract, ingress_contract
from infra.conventions import APP_NAMESPACE, APP_SECRET, CONFIG_MAP, Naming, Service
from infra.render.workloads import manifests as m
from infra.render.workloads.config import config_map
from infra.settings import load_settings
from infra.settings.stack import StackSettings
from infra.settings.workloads import ContainerResources
from tests.conftest import STACKS, stack_file_values

NAMING = Naming("unit")
IMAGE = "cr.yandex/crp0000000000000000/app@sha256:" + "ab" * 32
Render = Callable[[Naming, m.AppSpec, str], dict[str, Any]]
DEPLOYMENTS: dict[Service, Render] = {
    "api": m.api_deployment,
    "worker": m.worker_deployment,
    "frontend": m.frontend_deployment,
}


def settings(stack: str) -> StackSettings:
    return load_settings(stack, stack_file_values(stack), offline=True)


def app(stack: str = "prod", **changes: Any) -> m.AppSpec:
    return dataclasses.replace(m.AppSpec.of(settings(stack)), **changes)


def pod(service: Service, spec: m.AppSpec) -> dict[str, Any]:
    template: dict[str, Any] = DEPLOYMENTS[service](NAMING, spec, IMAGE)["spec"]["template"]
    return template


def container(service: Service, spec: m.AppSpec) -> dict[str, Any]:
    (found,) = pod(service, spec)["spec"]["containers"]
    return dict(found)


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def millicores(text: str) -> int:
    match = re.fullmatch(r"([0-9]+)m", text)
    assert match, text
    return int(match[1])


def every_object(spec: m.AppSpec) -> list[dict[str, Any]]:
    return [
        *(render(NAMING, spec, IMAGE) for render in DEPLOYMENTS.values()),
        m.service(NAMING, "api", 8000),
        m.service(NAMING, "frontend", 80),
        *(m.pod_disruption_budget(NAMING, s) for s in DEPLOYMENTS),
        m.api_autoscaler(NAMING, spec),
    ]


@pytest.mark.parametrize("zones", [1, 2, 3])
@pytest.mark.parametrize("stack", STACKS)
def test_every_object_is_valid_for_the_stacks_kubernetes_version(stack: str, zones: int) -> None:
    version = f"{settings(stack).cluster.version}.0"
    for document in every_object(app(stack, zones=zones)):
        kubernetes_validate.validate(document, version, strict=True)
        assert document["metadata"]["namespace"] == APP_NAMESPACE


@pytest.mark.parametrize("service", DEPLOYMENTS)
def test_each_deployment_selects_its_own_pods_and_no_other_services(service: Service) -> None:
    spec = app()
    selector = DEPLOYMENTS[service](NAMING, spec, IMAGE)["spec"]["selector"]["matchLabels"]
    for other in DEPLOYMENTS:
        assert selects(selector, pod(other, spec)["metadata"]["labels"]) is (other == service), other


@pytest.mark.parametrize("service", ["api", "frontend"])
def test_a_service_sends_traffic_to_the_named_port_of_its_deployments_pods(service: Service) -> None:
    spec = app()
    port = {"api": 8000, "frontend": 80}[service]
    rendered = m.service(NAMING, service, port)["spec"]
    assert selects(rendered["selector"], pod(service, spec)["metadata"]["labels"])
    (entry,) = rendered["ports"]
    names = {p["name"]: p["containerPort"] for p in container(service, spec)["ports"]}
    assert entry["targetPort"] in names
    assert entry["port"] == port


@pytest.mark.parametrize("service", DEPLOYMENTS)
def test_a_budget_covers_each_deployments_pods_and_lets_drains_take_one_at_a_time(service: Service) -> None:
    budget = m.pod_disruption_budget(NAMING, service)["spec"]
    assert selects(budget["selector"]["matchLabels"], pod(service, app())["metadata"]["labels"])
    assert budget == {"maxUnavailable": 1, "selector": budget["selector"]}


@pytest.mark.parametrize("stack", STACKS)
def test_the_autoscaler_scales_the_api_deployment_before_the_cpu_warning_fires(stack: str) -> None:
    spec = app(stack)
    deployment = m.api_deployment(NAMING, spec, IMAGE)
    scaler = m.api_autoscaler(NAMING, spec)["spec"]
    assert scaler["scaleTargetRef"] == {
        "apiVersion": deployment["apiVersion"],
        "kind": deployment["kind"],
        "name": deployment["metadata"]["name"],
    }
    # The autoscaler alone owns the count: a Deployment's own would reset it on every release.
    assert "replicas" not in deployment["spec"]
    assert spec.replicas.api == scaler["minReplicas"] <= scaler["maxReplicas"]
    (metric,) = scaler["metrics"]
    target = metric["resource"]["target"]
    assert (metric["resource"]["name"], target["type"]) == ("cpu", "Utilization")
    assert target["averageUtilization"] < settings(stack).thresholds.cpu.warning
    # Utilization is measured against the request: there must be one.
    assert millicores(container("api", spec)["resources"]["requests"]["cpu"]) > 0


@pytest.mark.parametrize("service", DEPLOYMENTS)
def test_a_rollout_starts_a_new_pod_before_it_stops_an_old_one(service: Service) -> None:
    strategy = DEPLOYMENTS[service](NAMING, app(), IMAGE)["spec"]["strategy"]
    assert strategy["type"] == "RollingUpdate"
    assert strategy["rollingUpdate"]["maxUnavailable"] == 0
    assert strategy["rollingUpdate"]["maxSurge"] >= 1


@pytest.mark.parametrize(
    ("zones", "rule"), [(1, "ScheduleAnyway"), (2, "DoNotSchedule"), (3, "DoNotSchedule")]
)
@pytest.mark.parametrize("service", DEPLOYMENTS)
def test_pods_spread_over_zones_strictly_only_where_there_is_more_than_one(
    service: Service, zones: int, rule: str
) -> None:
    spec = app(zones=zones)
    (spread,) = pod(service, spec)["spec"]["topologySpreadConstraints"]
    assert (spread["topologyKey"], spread["maxSkew"], spread["whenUnsatisfiable"]) == (
        "topology.kubernetes.io/zone",
        1,
        rule,
    )
    assert (
        spread["labelSelector"]["matchLabels"]
        == (DEPLOYMENTS[service](NAMING, spec, IMAGE)["spec"]["selector"]["matchLabels"])
    )


@pytest.mark.parametrize("service", DEPLOYMENTS)
def test_requests_and_limits_are_the_profiles(service: Service) -> None:
    spec = app("staging")
    profile: ContainerResources = getattr(spec.workloads, service)
    resources = container(service, spec)["resources"]
    assert resources == {
        "requests": {"cpu": f"{profile.cpu_request_m}m", "memory": f"{profile.memory_request_mib}Mi"},
        "limits": {"cpu": f"{profile.cpu_limit_m}m", "memory": f"{profile.memory_limit_mib}Mi"},
    }


@pytest.mark.parametrize("service", DEPLOYMENTS)
def test_only_a_pod_that_listens_below_1024_may_bind_low_ports(service: Service) -> None:
    spec = app()
    ports = [p["containerPort"] for p in container(service, spec).get("ports", [])]
    sysctls = pod(service, spec)["spec"]["securityContext"].get("sysctls", [])
    assert bool(sysctls) is any(port < 1024 for port in ports)
    for sysctl in sysctls:
        assert sysctl["name"] == "net.ipv4.ip_unprivileged_port_start"
        assert all(port >= int(sysctl["value"]) for port in ports)


@pytest.mark.parametrize("service", DEPLOYMENTS)
def test_writable_paths_are_bounded_scratch_volumes_and_no_api_token_is_mounted(service: Service) -> None:
    spec = pod(service, app())["spec"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    for mount in container(service, app())["volumeMounts"]:
        assert "sizeLimit" in volumes[mount["name"]]["emptyDir"], mount
    assert spec["automountServiceAccountToken"] is False


@pytest.mark.parametrize("service", DEPLOYMENTS)
def test_every_path_the_app_writes_is_a_mounted_volume(service: Service) -> None:
    process = {"api": app_contract.API, "worker": app_contract.WORKER, "frontend": app_contract.FRONTEND}
    mounted = {mount["mountPath"] for mount in container(service, app())["volumeMounts"]}
    assert set(process[service].writable_paths) <= mounted


@pytest.mark.parametrize("service", DEPLOYMENTS)
def test_no_service_links_reach_the_environment(service: Service) -> None:
    # A Service named samokoder-redis would put REDIS_PORT=tcp://... where the worker reads a number.
    assert pod(service, app())["spec"]["enableServiceLinks"] is False


@pytest.mark.parametrize("service", DEPLOYMENTS)
def test_liveness_is_checked_no_more_often_than_readiness(service: Service) -> None:
    found = container(service, app())
    readiness, liveness = found["readinessProbe"], found["livenessProbe"]
    assert liveness["periodSeconds"] >= readiness["periodSeconds"]
    names = {p["name"] for p in found.get("ports", [])}
    for probe in (readiness, liveness):
        if "httpGet" in probe:
            assert probe["httpGet"]["port"] in names


def test_the_worker_is_checked_against_the_settings_class_it_runs() -> None:
    worker = container("worker", app())
    program, settings_class = worker["command"][0], worker["command"][-1]
    for probe in (worker["readinessProbe"], worker["livenessProbe"]):
        assert probe["exec"]["command"] == [program, "--check", settings_class]


@pytest.mark.parametrize("service", ["api", "worker"])
def test_the_app_reads_the_config_map_and_the_delivered_secret_by_their_names(service: Service) -> None:
    spec = app()
    config = config_map(NAMING, spec)
    assert container(service, spec)["envFrom"] == [
        {"configMapRef": {"name": config["metadata"]["name"]}},
        {"secretRef": {"name": APP_SECRET}},
    ]
    assert config["metadata"]["name"] == CONFIG_MAP


@pytest.mark.parametrize("service", ["api", "frontend"])
def test_pods_behind_the_ingress_serve_until_nginx_has_let_them_go(service: Service) -> None:
    """A stopping pod keeps serving past the controller's endpoint sync, within its grace period."""
    spec = app()
    sleep = container(service, spec)["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert sleep > ingress_contract.BACKENDS_SYNC_SECONDS
    # Kubernetes' default grace period (30 s) bounds the drain and the app's own shutdown.
    assert sleep < pod(service, spec)["spec"].get("terminationGracePeriodSeconds", 30)
    # The worker takes no requests through the ingress: nothing to drain.
    assert "lifecycle" not in container("worker", spec)
