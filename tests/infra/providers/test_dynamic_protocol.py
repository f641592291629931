"""Every dynamic provider's check and diff with unknowns, through the real dynamic provider protocol.

The provider runs as ``python -m pulumi.dynamic``, the process the engine
starts, and is called over gRPC the way the engine calls it at a first
``pulumi preview`` (nothing exists: every id and generated value unknown) and
at a pull request's preview (a rotated value, a replaced key or network).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pulumi.runtime.rpc import UNKNOWN

from infra.providers.lockbox.provider import LockboxSecretProvider
from infra.providers.redis.provider import ManagedRedisClusterProvider
from infra.providers.yandex.connection import Connection
from tests.infra.providers.dynamic_protocol import DynamicProvider, serving_dynamic_provider

CONNECTION = Connection(auth="iam_token").as_inputs()
SUBNET_A = "e9bsubnet00000000001"
PASSWORD = "p" * 64  # pragma: allowlist secret


def lockbox_inputs(**overrides: Any) -> dict[str, Any]:
    return {
        "connection": CONNECTION,
        "folder_id": "b1gfolder00000000001",
        "name": "samokoder-staging-app",
        "description": "the app's keys",
        "labels": {"environment": "staging"},
        "kms_key_id": "abjkmskey000000000001",
        "payload": {"SECRET_KEY": "k" * 64, "APP_SECRET_KEY": "a" * 64},
        "payload_viewers": ["ajereader00000000001"],
        "deletion_protection": False,
        "rotated_at": None,
        **overrides,
    }


def redis_inputs(**overrides: Any) -> dict[str, Any]:
    return {
        "connection": CONNECTION,
        "folder_id": "b1gfolder00000000001",
        "name": "samokoder-staging-redis",
        "description": "",
        "labels": {"component": "redis"},
        "environment": "PRESTABLE",
        "network_id": "enpnetwork0000000001",
        "version": "7.2",
        "password": PASSWORD,
        "maxmemory_policy": "NOEVICTION",
        "resource_preset_id": "hm3-c2-m8",
        "disk_size_gb": 16,
        "disk_type_id": "network-ssd",
        "hosts": [{"zone": "ru-central1-a", "subnet_id": SUBNET_A}],
        "tls_enabled": True,
        "deletion_protection": True,
        **overrides,
    }


@pytest.fixture(scope="module")
def engine() -> Iterator[Any]:
    with serving_dynamic_provider() as stub:
        yield stub


@pytest.fixture
def lockbox(engine: Any) -> DynamicProvider:
    return DynamicProvider(engine, LockboxSecretProvider())


@pytest.fixture
def redis(engine: Any) -> DynamicProvider:
    return DynamicProvider(engine, ManagedRedisClusterProvider())


def deployed(provider: DynamicProvider, inputs: dict[str, Any], **outputs: Any) -> dict[str, Any]:
    """The state after create: the checked inputs and what the API reported."""
    checked = provider.check({}, inputs)
    assert checked.failures == {}
    return {**checked.inputs, **outputs}


def test_lockbox_at_a_first_preview(lockbox: DynamicProvider) -> None:
    news = lockbox_inputs(payload=UNKNOWN, kms_key_id=UNKNOWN, payload_viewers=[UNKNOWN])
    checked = lockbox.check({}, news)
    assert checked.failures == {}
    assert checked.inputs["fingerprints"] == UNKNOWN
    assert (checked.inputs["payload"], checked.inputs["kms_key_id"]) == (UNKNOWN, UNKNOWN)
    assert checked.inputs["payload_viewers"] == [UNKNOWN]


@pytest.mark.parametrize(
    ("overrides", "replaces"),
    [
        ({"payload": {"SECRET_KEY": UNKNOWN, "APP_SECRET_KEY": "a" * 64}}, []),
        ({"payload": UNKNOWN}, []),
        ({"payload_viewers": [UNKNOWN]}, []),
        ({"kms_key_id": UNKNOWN}, ["kms_key_id"]),
    ],
    ids=["a rotated entry", "the whole payload", "a reader", "a replaced KMS key"],
)
def test_lockbox_at_a_pull_requests_preview(
    lockbox: DynamicProvider, overrides: dict[str, Any], replaces: list[str]
) -> None:
    olds = deployed(lockbox, lockbox_inputs(), secret_id="e6q00000000000000001")
    checked = lockbox.check(olds, lockbox_inputs(**overrides))
    assert checked.failures == {}
    if isinstance(overrides.get("payload"), dict):
        # The known entry keeps its fingerprint; the unknown one has none.
        assert checked.inputs["fingerprints"] == {
            "APP_SECRET_KEY": olds["fingerprints"]["APP_SECRET_KEY"],
            "SECRET_KEY": UNKNOWN,
        }
    diff = lockbox.diff("e6q00000000000000001", olds, checked.inputs)
    assert (diff.changes, diff.replaces, diff.delete_before_replace) == ("DIFF_SOME", replaces, True)


def test_lockbox_with_nothing_unknown_and_unchanged(lockbox: DynamicProvider) -> None:
    olds = deployed(lockbox, lockbox_inputs(), secret_id="e6q00000000000000001")
    checked = lockbox.check(olds, lockbox_inputs())
    assert lockbox.diff("e6q00000000000000001", olds, checked.inputs).changes == "DIFF_NONE"


def test_redis_at_a_first_preview(redis: DynamicProvider) -> None:
    news = redis_inputs(
        password=UNKNOWN, network_id=UNKNOWN, hosts=[{"zone": "ru-central1-a", "subnet_id": UNKNOWN}]
    )
    checked = redis.check({}, news)
    assert checked.failures == {}
    assert (checked.inputs["password"], checked.inputs["network_id"]) == (UNKNOWN, UNKNOWN)


@pytest.mark.parametrize(
    ("overrides", "replaces"),
    [
        ({"password": UNKNOWN}, []),
        ({"labels": {"component": UNKNOWN}}, []),
        ({"network_id": UNKNOWN}, ["network_id"]),
        ({"hosts": [{"zone": "ru-central1-a", "subnet_id": UNKNOWN}]}, ["hosts"]),
        ({"hosts": UNKNOWN}, ["hosts"]),
    ],
    ids=["a rotated password", "a label", "a replaced network", "a replaced subnet", "the hosts"],
)
def test_redis_at_a_pull_requests_preview(
    redis: DynamicProvider, overrides: dict[str, Any], replaces: list[str]
) -> None:
    olds = deployed(redis, redis_inputs(), cluster_id="c9q00000000000000001")
    checked = redis.check(olds, redis_inputs(**overrides))
    assert checked.failures == {}
    diff = redis.diff("c9q00000000000000001", olds, checked.inputs)
    assert (diff.changes, diff.replaces, diff.delete_before_replace) == ("DIFF_SOME", replaces, True)


def test_redis_with_nothing_unknown_and_unchanged(redis: DynamicProvider) -> None:
    olds = deployed(redis, redis_inputs(), cluster_id="c9q00000000000000001")
    checked = redis.check(olds, redis_inputs())
    assert redis.diff("c9q00000000000000001", olds, checked.inputs).changes == "DIFF_NONE"
