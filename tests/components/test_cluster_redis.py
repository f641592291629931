"""Redis in the cluster built alone: its StatefulSet and Service as rendered, after the namespace."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pytest

from components.cluster_redis import ClusterRedis, ClusterRedisArgs
from components.kube import kubernetes_object
from infra.conventions import APP_NAMESPACE, REDIS, REDIS_PORT
from infra.render import redis
from infra.settings.workloads import RedisProfile
from tests.components.harness import NAMING, Built, build

STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
SERVICE = "kubernetes:core/v1:Service"
NAMESPACE = "kubernetes:core/v1:Namespace"
PROFILE = RedisProfile(memory_mib=256, storage_gb=2, storage_class="yc-network-hdd")


@dataclass(frozen=True)
class Run:
    built: Built[ClusterRedis]
    host: str


def cluster_redis(*, protect: bool = True) -> Run:
    hosts: list[str] = []

    def program() -> ClusterRedis:
        namespace = kubernetes_object(
            "app-namespace",
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": APP_NAMESPACE}},
            pulumi.ResourceOptions(),
        )
        component = ClusterRedis(
            "redis", ClusterRedisArgs(naming=NAMING, profile=PROFILE, namespace=namespace, protect=protect)
        )
        component.host.apply(hosts.append)
        return component

    built = build(program)
    (host,) = hosts
    return Run(built, host)


def test_the_stateful_set_and_the_service_reach_the_cluster_as_rendered() -> None:
    built = cluster_redis().built
    assert built.one(STATEFUL_SET).inputs == redis.stateful_set(NAMING, PROFILE)
    assert built.one(SERVICE).inputs == redis.service(NAMING)


def test_both_objects_are_the_components_children_and_wait_for_the_namespace() -> None:
    built = cluster_redis().built
    (component,) = built.of_type("samokoder:redis:ClusterRedis")
    namespace = built.one(NAMESPACE)
    for resource in (built.one(STATEFUL_SET), built.one(SERVICE)):
        assert resource.parent == component.urn, resource.name
        assert namespace.urn in resource.dependencies, resource.name


@pytest.mark.parametrize("protect", [True, False])
def test_the_queues_volume_is_protected_as_the_stack_protects_its_state(protect: bool) -> None:
    built = cluster_redis(protect=protect).built
    # The StatefulSet owns the volume with the queued jobs; the Service holds nothing.
    assert built.one(STATEFUL_SET).protect is protect
    assert built.one(SERVICE).protect is False


def test_the_app_and_the_exporter_reach_it_through_its_service_in_plain_text_without_a_password() -> None:
    run = cluster_redis()
    service = run.built.one(SERVICE).inputs
    assert run.host == f"{service['metadata']['name']}.{service['metadata']['namespace']}.svc"
    assert run.host == f"{REDIS}.{APP_NAMESPACE}.svc"
    component = run.built.component
    assert component.port == REDIS_PORT == service["spec"]["ports"][0]["port"]
