"""The shared builders: pinned atomic Helm releases, Pod Security labels, objects by the SDK's classes."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components.kube import PodSecurity, custom_resource, helm_release, kubernetes_object, namespace
from infra.render import charts, redis
from infra.render.charts import Chart
from infra.render.workloads import manifests as m
from infra.render.workloads.config import config_map
from infra.render.workloads.migrations import migration_access, migration_job, pre_migration_backup
from infra.render.workloads.network_policies import network_policies
from infra.render.workloads.routes import api_ingress, site_ingress
from infra.settings.workloads import (
    ContainerResources,
    RedisProfile,
    Replicas,
    WorkloadsProfile,
)
from tests.components.harness import NAMING, build

RELEASE = "kubernetes:helm.sh/v3:Release"
NAMESPACE = "kubernetes:core/v1:Namespace"
ENFORCE = "pod-security.kubernetes.io/enforce"
PINNED = [c for c in vars(charts).values() if isinstance(c, Chart)]
REDIS = RedisProfile(memory_mib=256, storage_gb=2, storage_class="yc-network-hdd")
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
        redis=REDIS,
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
        *network_policies(NAMING),
        *migration_access(NAMING),
        migration_job(NAMING, revision, IMAGE),
        pre_migration_backup(NAMING, revision),
        redis.stateful_set(NAMING, REDIS),
        redis.service(NAMING),
    ]


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


def sdk_class(api_version: str, kind: str) -> Any:
    """pulumi-kubernetes' class for a kind: its module follows the API group, its name the kind.

    `apps/v1` Deployment: `kubernetes.apps.v1.Deployment`; the core group's `v1` kinds live in
    `kubernetes.core.v1`; `networking.k8s.io/v1`: `kubernetes.networking.v1`. A kind of any
    other group (a CRD's) is a `kubernetes.apiextensions.CustomResource`.
    """
    group, _, version = api_version.rpartition("/")
    if group and "." in group and not group.endswith(".k8s.io"):
        return k8s.apiextensions.CustomResource
    module = getattr(k8s, group.split(".")[0] if group else "core")
    return getattr(getattr(module, version), kind)


SECRET = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "s", "namespace": "samokoder"},
    "stringData": {"key": "value"},
}
NS = {"apiVersion": "v1", "kind": "Namespace"}


def test_every_object_is_an_instance_of_the_sdks_own_class_for_its_kind() -> None:
    objects = [*rendered_objects(), SECRET]
    kinds = {(o["apiVersion"], o["kind"]) for o in objects}
    # The sample holds custom resources and the built-in kinds the program renders.
    assert ("postgresql.cnpg.io/v1", "Backup") in kinds
    assert {("apps/v1", "Deployment"), ("networking.k8s.io/v1", "NetworkPolicy"), ("v1", "Secret")} <= kinds
    made: list[tuple[dict[str, Any], pulumi.Resource]] = []

    def apply_all() -> None:
        for i, manifest in enumerate(objects):
            made.append((manifest, kubernetes_object(f"o-{i}", manifest, pulumi.ResourceOptions())))
        made.append((NS, namespace("ns", "x", {}, "restricted", pulumi.ResourceOptions())))

    build(apply_all)
    for manifest, resource in made:
        expected = sdk_class(manifest["apiVersion"], manifest["kind"])
        assert type(resource) is expected, (manifest["kind"], type(resource))


def test_a_secrets_data_is_sent_secret_and_stays_secret() -> None:
    built = build(lambda: kubernetes_object("s", SECRET, pulumi.ResourceOptions()))
    secret = built.named("s")
    assert secret.secret_outputs == ("data", "stringData")
    # Recorded as the engine would store it: the keys, never the value.
    assert secret.inputs["stringData"] == {"key": "[secret]"}


def test_a_built_in_kind_without_a_typed_class_fails_instead_of_guessing_its_type() -> None:
    manifest = {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "l"}, "spec": {}}
    with pytest.raises(ValueError, match="no typed class for v1 LimitRange"):
        build(lambda: kubernetes_object("l", manifest, pulumi.ResourceOptions()))


@pytest.mark.parametrize(
    ("manifest", "reason"),
    [
        ({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {}}, "is a built-in kind"),
        (
            {"apiVersion": "example.com/v1", "kind": "Thing", "spec": {}, "status": {}},
            r"metadata and spec only, not \['status'\]",
        ),
    ],
)
def test_a_custom_resource_is_one_the_sdks_class_can_hold_whole(
    manifest: dict[str, Any], reason: str
) -> None:
    with pytest.raises(ValueError, match=reason):
        build(lambda: custom_resource("c", manifest, pulumi.ResourceOptions()))


def test_a_release_is_the_sdks_helm_release() -> None:
    made: list[pulumi.Resource] = []
    build(lambda: made.append(helm_release("r", charts.CERT_MANAGER, "ns", {}, pulumi.ResourceOptions())))
    assert type(made[0]) is k8s.helm.v3.Release


def test_options_such_as_dependencies_reach_the_object() -> None:
    def two() -> None:
        first = kubernetes_object("first", config_map(NAMING, APP), pulumi.ResourceOptions())
        kubernetes_object(
            "second", pre_migration_backup(NAMING, "abc"), pulumi.ResourceOptions(depends_on=[first])
        )

    built = build(two)
    assert built.named("first").urn in built.named("second").dependencies
