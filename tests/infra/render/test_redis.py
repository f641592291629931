"""Redis in the cluster: a queue that keeps its jobs, by digest, open only to the app's pods."""

from __future__ import annotations

import re
from typing import Any

import kubernetes_validate
import pytest

from infra.conventions import APP_NAMESPACE, NAME_LABEL, REDIS, REDIS_PORT, Naming
from infra.render import charts, redis
from infra.render.workloads import manifests as m
from infra.render.workloads.migrations import migration_job
from infra.render.workloads.network_policies import network_policies
from infra.settings import load_settings
from infra.settings.stack import StackSettings
from infra.settings.workloads import RedisProfile
from tests.conftest import STACKS, stack_file_values

NAMING = Naming("unit")
MIB = 1024 * 1024
Labels = dict[str, str]


def settings(stack: str) -> StackSettings:
    return load_settings(stack, stack_file_values(stack), offline=True)


def profile(stack: str) -> RedisProfile:
    return settings(stack).workloads.redis


def pod_spec(stack: str) -> dict[str, Any]:
    spec: dict[str, Any] = redis.stateful_set(NAMING, profile(stack))["spec"]["template"]["spec"]
    return spec


def container(stack: str) -> dict[str, Any]:
    (found,) = pod_spec(stack)["containers"]
    return dict(found)


def flags(stack: str) -> dict[str, str]:
    """redis-server's --name value pairs."""
    program, *args = container(stack)["command"]
    assert program == "redis-server"
    assert len(args) % 2 == 0, args
    assert all(a.startswith("--") for a in args[::2]), args
    return {name.removeprefix("--"): value for name, value in zip(args[::2], args[1::2], strict=True)}


def quantity_mib(text: str) -> int:
    match = re.fullmatch(r"([0-9]+)Mi", text)
    assert match, text
    return int(match[1])


def selects(selector: Labels, labels: Labels) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


@pytest.mark.parametrize("stack", STACKS)
def test_the_stateful_set_and_service_are_valid_objects_of_the_app_namespace(stack: str) -> None:
    version = f"{settings(stack).cluster.version}.0"
    for document in (redis.stateful_set(NAMING, profile(stack)), redis.service(NAMING)):
        kubernetes_validate.validate(document, version, strict=True)
        assert (document["metadata"]["name"], document["metadata"]["namespace"]) == (REDIS, APP_NAMESPACE)


def test_the_image_is_redis_7_pinned_by_digest() -> None:
    assert re.fullmatch(r"docker\.io/library/redis:7\.[0-9]+-alpine@sha256:[0-9a-f]{64}", redis.IMAGE)
    assert redis.IMAGE.endswith(f"@{redis.DIGEST}")
    assert container("prod")["image"] == redis.IMAGE


@pytest.mark.parametrize("stack", STACKS)
def test_the_queue_never_loses_a_job_to_eviction_or_a_restart(stack: str) -> None:
    found = flags(stack)
    # Writes fail when memory is full, instead of dropping queued jobs.
    assert found["maxmemory-policy"] == "noeviction"
    # Every write goes to the append-only file, on the claimed volume.
    assert found["appendonly"] == "yes"
    (mount,) = container(stack)["volumeMounts"]
    assert found["dir"] == mount["mountPath"] == redis.DATA
    (claim,) = redis.stateful_set(NAMING, profile(stack))["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == mount["name"]
    assert claim["spec"]["resources"]["requests"]["storage"] == f"{profile(stack).storage_gb}Gi"
    assert claim["spec"]["storageClassName"] == profile(stack).storage_class


@pytest.mark.parametrize("stack", STACKS)
def test_redis_stops_taking_writes_below_the_memory_its_container_may_use(stack: str) -> None:
    maxmemory = int(flags(stack)["maxmemory"])
    assert maxmemory == profile(stack).memory_mib * MIB
    resources = container(stack)["resources"]
    assert quantity_mib(resources["requests"]["memory"]) * MIB == maxmemory
    # Headroom for the process and the AOF rewrite: never killed for reaching maxmemory.
    assert quantity_mib(resources["limits"]["memory"]) * MIB > maxmemory


@pytest.mark.parametrize("stack", STACKS)
def test_it_listens_where_the_service_and_the_app_look(stack: str) -> None:
    assert flags(stack)["port"] == str(REDIS_PORT)
    ((port,),) = [container(stack)["ports"]]
    (service_port,) = redis.service(NAMING)["spec"]["ports"]
    assert service_port["targetPort"] == port["name"]
    assert service_port["port"] == port["containerPort"] == REDIS_PORT
    assert redis.address() == (f"{REDIS}.{APP_NAMESPACE}.svc", REDIS_PORT)
    labels = redis.stateful_set(NAMING, profile(stack))["spec"]["template"]["metadata"]["labels"]
    assert selects(redis.service(NAMING)["spec"]["selector"], labels)


@pytest.mark.parametrize("stack", STACKS)
def test_it_runs_locked_down_with_no_token_and_no_service_links(stack: str) -> None:
    spec = pod_spec(stack)
    assert spec["automountServiceAccountToken"] is False
    assert spec["enableServiceLinks"] is False
    security = container(stack)["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["runAsNonRoot"] is True
    # The volume is written by the pod's group.
    assert spec["securityContext"]["fsGroup"] == security["runAsGroup"]


def app_pods(stack: str) -> dict[str, Labels]:
    spec = m.AppSpec.of(settings(stack))
    pods = {
        service: render(NAMING, spec, "image")["spec"]["template"]["metadata"]["labels"]
        for service, render in (
            ("api", m.api_deployment),
            ("worker", m.worker_deployment),
            ("frontend", m.frontend_deployment),
        )
    }
    # The exporter chart labels its pods with its own name.
    pods["redis-exporter"] = {NAME_LABEL: charts.REDIS_EXPORTER.name, "app.kubernetes.io/instance": "x"}
    pods["migrate"] = migration_job(NAMING, "4f2a9c1d7e3b", "image")["spec"]["template"]["metadata"]["labels"]
    return pods


def admitted(stack: str) -> set[str]:
    """Which pods the policies let reach Redis's pods on its port (default-deny applies to them too)."""
    labels = redis.stateful_set(NAMING, profile(stack))["spec"]["template"]["metadata"]["labels"]
    applying = [
        p["spec"]
        for p in network_policies(NAMING)
        if "Ingress" in p["spec"]["policyTypes"]
        and selects(p["spec"]["podSelector"].get("matchLabels", {}), labels)
    ]
    assert applying, "no policy applies to Redis's pods: anything may reach them"
    rules = [rule for spec in applying for rule in spec.get("ingress", [])]
    found = set()
    for name, pod in app_pods(stack).items():
        for rule in rules:
            peers = [p["podSelector"]["matchLabels"] for p in rule["from"] if set(p) == {"podSelector"}]
            ports = {(p["port"], p.get("protocol", "TCP")) for p in rule.get("ports", [])}
            if any(selects(peer, pod) for peer in peers) and (REDIS_PORT, "TCP") in ports:
                found.add(name)
        # Nothing else (another namespace, an address block) is let in.
        for rule in rules:
            assert all(set(p) == {"podSelector"} for p in rule["from"]), rule
    return found


@pytest.mark.parametrize("stack", STACKS)
def test_protected_mode_is_off_only_behind_a_policy_that_admits_the_app_and_the_exporter(stack: str) -> None:
    # No password (the app cannot send one) and protected mode off: the NetworkPolicy is the fence.
    assert flags(stack)["protected-mode"] == "no"
    assert admitted(stack) == {"api", "worker", "redis-exporter"}
