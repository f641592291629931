"""The Managed Redis provider against a Managed Redis API on loopback (SDK stubs, TLS, operations)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from infra.providers.redis import client
from infra.providers.redis.errors import RedisError
from infra.providers.redis.provider import (
    MAXMEMORY_POLICIES,
    PASSWORD_SPECIALS,
    ManagedRedisClusterProvider,
    password_problem,
)
from infra.providers.yandex.connection import IAM_TOKEN_ENV
from tests.infra.providers.redis.fake_api import GIB, FakeRedis, serving_redis

TOKEN = "t1.operator-token"
NETWORK = "enpnetwork0000000001"
SUBNETS = {"ru-central1-a": "e9bsubnet00000000001", "ru-central1-b": "e2lsubnet00000000002"}
PASSWORD = "p" * 32 + "0123456789abcdefABCDEF"  # pragma: allowlist secret
OTHER_PASSWORD = "q" * 40 + "9876543210"  # pragma: allowlist secret


@pytest.fixture
def redis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRedis]:
    # The provider polls operations as it does against the real API, only more often.
    monkeypatch.setattr(client, "POLL_SECONDS", 0.01)
    with serving_redis(tmp_path, {NETWORK: SUBNETS}) as api:
        api.state.tokens.add(TOKEN)
        monkeypatch.setenv(IAM_TOKEN_ENV, TOKEN)
        yield api


def inputs(api: FakeRedis, **overrides: Any) -> dict[str, Any]:
    return {
        "connection": api.connection().as_inputs(),
        "folder_id": "b1gfolder00000000001",
        "name": "samokoder-staging-redis",
        "description": "",
        "labels": {"component": "redis"},
        "environment": "PRESTABLE",
        "network_id": NETWORK,
        "version": "7.2",
        "password": PASSWORD,
        "maxmemory_policy": "NOEVICTION",
        "resource_preset_id": "hm3-c2-m8",
        "disk_size_gb": 16,
        "disk_type_id": "network-ssd",
        "hosts": [{"zone": zone, "subnet_id": subnet} for zone, subnet in SUBNETS.items()],
        "tls_enabled": True,
        "deletion_protection": False,
        **overrides,
    }


def create(api: FakeRedis, **overrides: Any) -> tuple[str, dict[str, Any]]:
    provider = ManagedRedisClusterProvider()
    checked = provider.check({}, inputs(api, **overrides))
    assert not checked.failures
    created = provider.create(checked.inputs)
    assert created.outs is not None
    return created.id, created.outs


def update(id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
    outs = ManagedRedisClusterProvider().update(id_, olds, news).outs
    assert outs is not None
    return outs


def test_create_sends_version_7_2_with_its_password_and_no_eviction(redis: FakeRedis) -> None:
    cluster_id, outs = create(redis, deletion_protection=True)
    stored = redis.state.clusters[cluster_id]
    cluster = stored.cluster
    assert cluster.config.version == "7.2"
    # What Terraform's provider never sends for 7.2: the password and the policy.
    assert stored.password == PASSWORD
    assert cluster.config.redis.user_config.maxmemory_policy == cluster.config.redis.user_config.NOEVICTION
    assert cluster.tls_enabled is True
    assert cluster.deletion_protection is True
    assert cluster.network_id == NETWORK
    assert cluster.Environment.Name(cluster.environment) == "PRESTABLE"
    assert (cluster.config.resources.resource_preset_id, cluster.config.resources.disk_size) == (
        "hm3-c2-m8",
        16 * GIB,
    )
    assert sorted((h.zone_id, h.subnet_id) for h in stored.hosts) == sorted(SUBNETS.items())
    assert outs["cluster_id"] == cluster_id
    assert outs["status"] == "RUNNING"
    assert outs["maxmemory_policy"] == "NOEVICTION"
    assert outs["hosts"] == [{"zone": z, "subnet_id": s} for z, s in sorted(SUBNETS.items())]
    assert len(outs["host_names"]) == len(SUBNETS)
    assert outs["created_at"].endswith("Z")
    # Only the input carries the password: the API never returns it.
    assert [k for k, v in outs.items() if v == PASSWORD] == ["password"]


def test_the_api_refuses_a_7_2_request_without_a_config_as_terraform_builds_it(redis: FakeRedis) -> None:
    # terraform-provider-yandex v0.71 expandRedisConfig: no case for "7.2", so no config at all.
    from yandex.cloud.mdb.redis.v1 import cluster_service_pb2, cluster_service_pb2_grpc  # noqa: PLC0415

    sdk = redis.connection().sdk()
    stub = sdk.client(cluster_service_pb2_grpc.ClusterServiceStub)
    request = cluster_service_pb2.CreateClusterRequest(
        folder_id="b1gfolder00000000001",
        name="as-terraform-sends-it",
        config_spec=cluster_service_pb2.ConfigSpec(version="7.2"),
        network_id=NETWORK,
    )
    with pytest.raises(grpc.RpcError) as refused:
        stub.Create(request)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert redis.state.clusters == {}


def test_a_new_password_is_an_update_of_the_password_alone(redis: FakeRedis) -> None:
    provider = ManagedRedisClusterProvider()
    cluster_id, olds = create(redis)
    news = provider.check(olds, inputs(redis, password=OTHER_PASSWORD)).inputs
    diff = provider.diff(cluster_id, olds, news)
    assert (diff.changes, diff.replaces) == (True, [])
    outs = update(cluster_id, olds, news)
    assert redis.state.clusters[cluster_id].password == OTHER_PASSWORD
    (request,) = redis.state.updates
    assert list(request.update_mask.paths) == ["config_spec.redis.password"]
    assert outs["password"] == OTHER_PASSWORD
    assert redis.state.count("ClusterService.Create") == 1


def test_a_bigger_preset_and_disk_are_updated_in_place(redis: FakeRedis) -> None:
    provider = ManagedRedisClusterProvider()
    cluster_id, olds = create(redis)
    news = provider.check(olds, inputs(redis, resource_preset_id="hm3-c4-m16", disk_size_gb=32)).inputs
    assert provider.diff(cluster_id, olds, news).replaces == []
    outs = update(cluster_id, olds, news)
    (request,) = redis.state.updates
    assert sorted(request.update_mask.paths) == [
        "config_spec.resources.disk_size",
        "config_spec.resources.resource_preset_id",
    ]
    assert (outs["resource_preset_id"], outs["disk_size_gb"]) == ("hm3-c4-m16", 32)


@pytest.mark.parametrize(
    ("overrides", "replaced"),
    [
        ({"network_id": "enpnetwork0000000002"}, ["network_id"]),
        ({"environment": "PRODUCTION"}, ["environment"]),
        ({"tls_enabled": False}, ["tls_enabled"]),
        ({"hosts": [{"zone": "ru-central1-a", "subnet_id": SUBNETS["ru-central1-a"]}]}, ["hosts"]),
        ({"folder_id": "b1gfolder00000000002"}, ["folder_id"]),
        ({"name": "samokoder-staging-redis-2"}, []),
        ({"labels": {}}, []),
        ({"deletion_protection": True}, []),
        ({"maxmemory_policy": "ALLKEYS_LRU"}, []),
        ({}, None),
    ],
    ids=[
        "network",
        "environment",
        "tls",
        "hosts",
        "folder",
        "name",
        "labels",
        "protection",
        "policy",
        "none",
    ],
)
def test_what_replaces_the_cluster_and_what_is_updated(
    redis: FakeRedis, overrides: dict[str, Any], replaced: list[str] | None
) -> None:
    provider = ManagedRedisClusterProvider()
    _, olds = create(redis)
    diff = provider.diff("c9q", olds, provider.check(olds, inputs(redis, **overrides)).inputs)
    assert diff.changes is (replaced is not None)
    assert diff.replaces == (replaced or [])
    if replaced:
        assert diff.delete_before_replace is ("name" not in overrides)


def test_a_version_change_fails_the_check_as_terraform_refuses_it(redis: FakeRedis) -> None:
    provider = ManagedRedisClusterProvider()
    _, olds = create(redis)
    failures = provider.check(olds, inputs(redis, version="8.1")).failures
    assert [f.property for f in failures] == ["version"]
    assert "upgrade the cluster" in failures[0].reason


def test_settings_the_api_would_refuse_fail_the_check_without_quoting_the_password(redis: FakeRedis) -> None:
    provider = ManagedRedisClusterProvider()
    bad = inputs(
        redis,
        password="short",  # pragma: allowlist secret
        maxmemory_policy="EVICT_EVERYTHING",
        environment="TESTING",
        hosts=[],
        disk_size_gb=0,
        connection={"auth": "service_account_key_file"},
    )
    failures = {f.property: f.reason for f in provider.check({}, bad).failures}
    assert sorted(failures) == [
        "connection",
        "disk_size_gb",
        "environment",
        "hosts",
        "maxmemory_policy",
        "password",
    ]
    assert "short" not in failures["password"]
    assert "8 to 128" in failures["password"]


def test_the_password_characters_the_check_allows_are_the_apis() -> None:
    from yandex.cloud.mdb.redis.v1.config.redis_pb2 import RedisConfig  # noqa: PLC0415

    options = RedisConfig.DESCRIPTOR.fields_by_name["password"].GetOptions()
    (pattern,) = (str(value) for field, value in options.ListFields() if field.name == "pattern")
    assert pattern == "[a-zA-Z0-9@=+?*.,!&#$^<>_%-]{0,128}"
    assert "".join(sorted(PASSWORD_SPECIALS)) == "".join(sorted("@=+?*.,!&#$^<>_%-"))
    assert password_problem("a%b-c_d@e=f") is None
    assert password_problem("a b c d e f") is not None


def test_the_policies_the_check_knows_are_the_apis() -> None:
    from yandex.cloud.mdb.redis.v1.config.redis_pb2 import RedisConfig  # noqa: PLC0415

    names = set(RedisConfig.MaxmemoryPolicy.keys()) - {"MAXMEMORY_POLICY_UNSPECIFIED"}
    assert set(MAXMEMORY_POLICIES) == names


def test_read_refreshes_from_the_api_and_sees_a_deleted_cluster(redis: FakeRedis) -> None:
    provider = ManagedRedisClusterProvider()
    cluster_id, outs = create(redis)
    redis.state.clusters[cluster_id].cluster.description = "edited in the console"
    read = provider.read(cluster_id, outs)
    assert read.id == cluster_id
    assert read.outs is not None
    assert read.outs["description"] == "edited in the console"
    assert read.outs["password"] == PASSWORD, "kept: the API never returns it"
    del redis.state.clusters[cluster_id]
    assert provider.read(cluster_id, outs).id == ""


def test_delete_respects_deletion_protection(redis: FakeRedis) -> None:
    provider = ManagedRedisClusterProvider()
    cluster_id, olds = create(redis, deletion_protection=True)
    with pytest.raises(RedisError) as refused:
        provider.delete(cluster_id, olds)
    message = str(refused.value)
    assert "Managed Redis cluster 'samokoder-staging-redis'" in message
    assert "FAILED_PRECONDITION" in message
    assert "set deletion_protection to false" in message
    outs = update(cluster_id, olds, provider.check(olds, inputs(redis, deletion_protection=False)).inputs)
    provider.delete(cluster_id, outs)
    assert cluster_id not in redis.state.clusters


def test_an_existing_name_and_an_unknown_network_say_what_to_do(redis: FakeRedis) -> None:
    create(redis)
    with pytest.raises(RedisError, match=r"create failed \(ALREADY_EXISTS.*pulumi import"):
        create(redis)
    with pytest.raises(RedisError, match=r"create failed \(NOT_FOUND: Network enpmissing"):
        create(
            redis, name="other", network_id="enpmissing0000000001", hosts=[{"zone": "a", "subnet_id": "b"}]
        )


def test_no_error_message_carries_the_password(redis: FakeRedis, monkeypatch: pytest.MonkeyPatch) -> None:
    messages = []
    create(redis)
    redis.state.read_only_tokens.add("t1.viewer")
    for overrides, token in (({}, TOKEN), ({"name": "other"}, "t1.viewer"), ({"name": "x"}, "t1.expired")):
        monkeypatch.setenv(IAM_TOKEN_ENV, token)
        with pytest.raises(RedisError) as caught:
            create(redis, **overrides)
        messages.append(str(caught.value))
    assert [m.split("failed (")[1].split(":")[0] for m in messages] == [
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "UNAUTHENTICATED",
    ]
    assert not any(PASSWORD in message for message in messages)
