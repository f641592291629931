"""The shared builders: pinned atomic Helm releases, Pod Security labels, objects as the SDK has them."""

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
    revision = "4f2a9c1d7e3b"  # pragma: allowlist secret (an Alembic revision)
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


# pulumi-kubernetes' typed class of each built-in kind the program renders.
TYPED: dict[tuple[str, str], Any] = {
    ("v1", "ConfigMap"): lambda: k8s.core.v1.ConfigMap,
    ("v1", "Namespace"): lambda: k8s.core.v1.Namespace,
    ("v1", "Secret"): lambda: k8s.core.v1.Secret,
    ("v1", "Service"): lambda: k8s.core.v1.Service,
    ("v1", "ServiceAccount"): lambda: k8s.core.v1.ServiceAccount,
    ("apps/v1", "Deployment"): lambda: k8s.apps.v1.Deployment,
    ("apps/v1", "StatefulSet"): lambda: k8s.apps.v1.StatefulSet,
    ("batch/v1", "Job"): lambda: k8s.batch.v1.Job,
    ("policy/v1", "PodDisruptionBudget"): lambda: k8s.policy.v1.PodDisruptionBudget,
    ("autoscaling/v2", "HorizontalPodAutoscaler"): lambda: k8s.autoscaling.v2.HorizontalPodAutoscaler,
    ("networking.k8s.io/v1", "Ingress"): lambda: k8s.networking.v1.Ingress,
    ("networking.k8s.io/v1", "NetworkPolicy"): lambda: k8s.networking.v1.NetworkPolicy,
    ("rbac.authorization.k8s.io/v1", "Role"): lambda: k8s.rbac.v1.Role,
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): lambda: k8s.rbac.v1.RoleBinding,
}
# Python argument names of top-level fields, where they differ from the manifest's.
ARGUMENT = {
    "roleRef": "role_ref",
    "automountServiceAccountToken": "automount_service_account_token",
    "stringData": "string_data",
}
SECRET = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "s", "namespace": "samokoder"},
    "stringData": {"key": "value"},
}


def typed(name: str, manifest: dict[str, Any]) -> pulumi.Resource:
    """The object as pulumi-kubernetes' own class for its kind registers it, or its CustomResource."""
    fields = {ARGUMENT.get(k, k): v for k, v in manifest.items() if k not in ("apiVersion", "kind")}
    make = TYPED.get((manifest["apiVersion"], manifest["kind"]))
    if make is None:
        custom: pulumi.Resource = k8s.apiextensions.CustomResource(
            name, api_version=manifest["apiVersion"], kind=manifest["kind"], **fields
        )
        return custom
    resource: pulumi.Resource = make()(name, **fields)
    return resource


def test_every_object_registers_exactly_as_the_sdks_typed_class_for_its_kind_would() -> None:
    objects = [*rendered_objects(), SECRET]
    # The sample covers custom resources and every built-in kind the program renders.
    assert set(TYPED) | {("postgresql.cnpg.io/v1", "Backup")} <= {
        (o["apiVersion"], o["kind"]) for o in objects
    } | {("v1", "Namespace")}

    def both() -> None:
        for i, manifest in enumerate(objects):
            kubernetes_object(f"ours-{i}", manifest, pulumi.ResourceOptions())
            typed(f"sdk-{i}", manifest)
        namespace("ours-ns", "x", {}, "restricted", pulumi.ResourceOptions())
        k8s.core.v1.Namespace("sdk-ns", metadata={"name": "x", "labels": {ENFORCE: "restricted"}})

    built = build(both)
    ours = {r.name.removeprefix("ours-"): r for r in built.resources if r.name.startswith("ours-")}
    sdk = {r.name.removeprefix("sdk-"): r for r in built.resources if r.name.startswith("sdk-")}
    assert ours.keys() == sdk.keys()
    for key, mine in ours.items():
        assert (mine.type, mine.inputs) == (sdk[key].type, sdk[key].inputs), mine.name


def test_a_secrets_data_stays_secret_as_with_the_sdk_class() -> None:
    def both() -> None:
        kubernetes_object("ours", SECRET, pulumi.ResourceOptions())
        typed("sdk", SECRET)

    built = build(both)
    assert built.named("ours").secret_outputs == built.named("sdk").secret_outputs == ("data", "stringData")


def test_a_release_registers_exactly_as_the_sdks_release_would() -> None:
    chart = charts.CERT_MANAGER

    def both() -> None:
        helm_release("ours", chart, "ns", {"a": 1}, pulumi.ResourceOptions(), release_name="r")
        k8s.helm.v3.Release(
            "sdk",
            name="r",
            chart=chart.name,
            version=chart.version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository),
            namespace="ns",
            values={"a": 1},
            atomic=True,
            timeout=900,
        )

    built = build(both)
    ours, sdk = built.named("ours"), built.named("sdk")
    assert (ours.type, ours.inputs) == (sdk.type, sdk.inputs)


def test_options_such_as_dependencies_reach_the_object() -> None:
    def two() -> None:
        first = kubernetes_object("first", config_map(NAMING, APP), pulumi.ResourceOptions())
        kubernetes_object(
            "second", pre_migration_backup(NAMING, "abc"), pulumi.ResourceOptions(depends_on=[first])
        )

    built = build(two)
    assert built.named("first").urn in built.named("second").dependencies
