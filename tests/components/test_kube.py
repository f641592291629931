"""The shared builders: atomic pinned Helm releases, Pod Security labels, typed objects for built-in kinds."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components.kube import PodSecurity, helm_release, kubernetes_object, namespace
from infra.render import charts, redis
from infra.render.charts import Chart
from infra.render.workloads import manifests as m
from infra.render.workloads.config import config_map
from infra.render.workloads.migrations import migration_access, migration_job, pre_migration_backup
from infra.render.workloads.network_policies import network_policies
from infra.render.workloads.routes import api_ingress, site_ingress
from infra.settings.workloads import (
    ContainerResources,
    InClusterRedisProfile,
    RedisProfile,
    Replicas,
    WorkloadsProfile,
)
from tests.components.harness import NAMING, build

RELEASE = "kubernetes:helm.sh/v3:Release"
NAMESPACE = "kubernetes:core/v1:Namespace"
ENFORCE = "pod-security.kubernetes.io/enforce"
PINNED = [c for c in vars(charts).values() if isinstance(c, Chart)]
REDIS = InClusterRedisProfile(memory_mib=256, storage_gb=2, storage_class="yc-network-hdd")
APP = m.AppSpec(
    stack="unit",
    domain="unit.samokoder.example",
    zones=3,
    replicas=Replicas(api=2, worker=2, frontend=2),
    workloads=WorkloadsProfile(
        api=ContainerResources(
            cpu_request_m=100, cpu_limit_m=200, memory_request_mib=64, memory_limit_mib=128
        ),
        worker=ContainerResources(
            cpu_request_m=100, cpu_limit_m=200, memory_request_mib=64, memory_limit_mib=128
        ),
        frontend=ContainerResources(
            cpu_request_m=10, cpu_limit_m=50, memory_request_mib=16, memory_limit_mib=32
        ),
        api_max_replicas=4,
        environment="staging",
        redis=RedisProfile(in_cluster=REDIS),
        acme_email="oncall@samokoder.ru",
    ),
)
IMAGE = "cr.yandex/crp0000000000000000/api@sha256:" + "ab" * 32


def rendered_objects() -> list[dict[str, Any]]:
    """Every object the workloads' renderers produce, built-in kinds and custom resources alike."""
    revision = "4f2a9c1d7e3b"
    return [
        config_map(NAMING, APP),
        m.api_deployment(NAMING, APP, IMAGE),
        m.worker_deployment(NAMING, APP, IMAGE),
        m.frontend_deployment(NAMING, APP, IMAGE),
        m.service(NAMING, "api", 8000),
        m.pod_disruption_budget(NAMING, "api"),
        m.api_autoscaler(NAMING, APP),
        site_ingress(NAMING, APP),
        api_ingress(NAMING, APP),
        *network_policies(NAMING, "10.20.0.0/16", redis_in_cluster=True),
        *migration_access(NAMING),
        migration_job(NAMING, revision, IMAGE),
        pre_migration_backup(NAMING, revision),
        redis.stateful_set(NAMING, REDIS),
        redis.service(NAMING),
    ]


def is_builtin(api_version: str) -> bool:
    group = api_version.rpartition("/")[0]
    return "." not in group or group.endswith(".k8s.io")


def type_token(manifest: dict[str, Any]) -> str:
    api_version = "core/v1" if manifest["apiVersion"] == "v1" else manifest["apiVersion"]
    return f"kubernetes:{api_version}:{manifest['kind']}"


# --- helm_release ----------------------------------------------------------------------------------


@pytest.mark.parametrize("chart", PINNED, ids=lambda c: c.name)
def test_a_release_installs_exactly_the_pinned_version_from_its_repository(chart: Chart) -> None:
    built = build(lambda: helm_release("r", chart, "some-namespace", {}, pulumi.ResourceOptions()))
    inputs = built.one(RELEASE).inputs
    assert (inputs["chart"], inputs["version"]) == (chart.name, chart.version)
    assert inputs["repositoryOpts"] == {"repo": chart.repository}
    assert inputs["namespace"] == "some-namespace"


def test_a_release_is_atomic_and_waits_a_bounded_time() -> None:
    built = build(lambda: helm_release("r", charts.CERT_MANAGER, "ns", {}, pulumi.ResourceOptions()))
    inputs = built.one(RELEASE).inputs
    # A failed install rolls back instead of leaving half a chart behind.
    assert inputs["atomic"] is True
    # Longer than Helm's default 5 minutes (CRDs, webhooks), and never unbounded.
    assert 300 <= inputs["timeout"] <= 3600


def test_a_release_is_named_after_its_chart_unless_told_otherwise() -> None:
    def two() -> None:
        helm_release("plain", charts.REDIS_EXPORTER, "ns", {}, pulumi.ResourceOptions())
        helm_release("named", charts.REDIS_EXPORTER, "ns", {}, pulumi.ResourceOptions(), release_name="mine")

    built = build(two)
    assert built.named("plain").inputs["name"] == charts.REDIS_EXPORTER.name
    assert built.named("named").inputs["name"] == "mine"


def test_a_release_hands_its_values_to_helm_as_given() -> None:
    values = {"controller": {"replicaCount": 2, "service": {"externalTrafficPolicy": "Local"}}}
    built = build(lambda: helm_release("r", charts.INGRESS_NGINX, "ns", values, pulumi.ResourceOptions()))
    assert built.one(RELEASE).inputs["values"] == values


# --- namespace -------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["restricted", "baseline", "privileged"])
def test_a_namespace_enforces_the_pod_security_level_it_is_given(level: PodSecurity) -> None:
    labels = {"app.kubernetes.io/part-of": "samokoder"}
    built = build(lambda: namespace("ns", "some-namespace", labels, level, pulumi.ResourceOptions()))
    metadata = built.one(NAMESPACE).inputs["metadata"]
    assert metadata["name"] == "some-namespace"
    assert metadata["labels"] == {**labels, ENFORCE: level}


def test_a_label_passed_in_cannot_loosen_the_pod_security_level() -> None:
    labels = {ENFORCE: "privileged"}
    built = build(lambda: namespace("ns", "some-namespace", labels, "restricted", pulumi.ResourceOptions()))
    assert built.one(NAMESPACE).inputs["metadata"]["labels"][ENFORCE] == "restricted"


# --- kubernetes_object -----------------------------------------------------------------------------


def test_every_rendered_object_reaches_the_provider_as_rendered_under_its_own_type() -> None:
    objects = rendered_objects()

    def apply_all() -> None:
        for manifest in objects:
            name = f"{manifest['kind']}-{manifest['metadata']['name']}"
            kubernetes_object(name, manifest, pulumi.ResourceOptions())

    built = build(apply_all)
    for manifest in objects:
        recorded = built.named(f"{manifest['kind']}-{manifest['metadata']['name']}")
        assert recorded.type == type_token(manifest)
        # Nothing dropped or renamed on the way: roleRef and automountServiceAccountToken included.
        assert recorded.inputs == manifest, recorded.name


def test_built_in_kinds_become_typed_resources_and_others_custom_resources() -> None:
    objects = rendered_objects()
    kinds = {(o["apiVersion"], o["kind"]) for o in objects}
    # The sample covers both sides and every built-in kind the app renders.
    assert {
        ("postgresql.cnpg.io/v1", "Backup"),
        ("apps/v1", "Deployment"),
        ("apps/v1", "StatefulSet"),
        ("v1", "ServiceAccount"),
    } <= kinds

    def apply_all() -> list[tuple[dict[str, Any], pulumi.Resource]]:
        return [
            (manifest, kubernetes_object(f"object-{i}", manifest, pulumi.ResourceOptions()))
            for i, manifest in enumerate(objects)
        ]

    built = build(apply_all)
    for manifest, resource in built.component:
        custom = isinstance(resource, k8s.apiextensions.CustomResource)
        assert custom is not is_builtin(manifest["apiVersion"]), (manifest["apiVersion"], manifest["kind"])


def test_an_unknown_kind_becomes_a_custom_resource_with_its_spec_and_metadata() -> None:
    manifest = {
        "apiVersion": "example.samokoder.io/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "samokoder", "labels": {"a": "b"}},
        "spec": {"size": 3, "nested": {"camelCase": True}},
    }
    built = build(lambda: kubernetes_object("widget", manifest, pulumi.ResourceOptions()))
    assert isinstance(built.component, k8s.apiextensions.CustomResource)
    recorded = built.one("kubernetes:example.samokoder.io/v1:Widget")
    assert recorded.inputs == manifest


def test_options_such_as_dependencies_reach_the_object() -> None:
    def two() -> None:
        first = kubernetes_object("first", config_map(NAMING, APP), pulumi.ResourceOptions())
        kubernetes_object(
            "second", pre_migration_backup(NAMING, "abc"), pulumi.ResourceOptions(depends_on=[first])
        )

    built = build(two)
    assert built.named("first").urn in built.named("second").dependencies
