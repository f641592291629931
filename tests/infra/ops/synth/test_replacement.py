"""The offline table of replacing inputs agrees with the program's own dynamic providers."""

from __future__ import annotations

from infra.ops.synth.replacement import (
    LOCKBOX_REPLACED_BY,
    MANAGED_REDIS,
    MANAGED_REDIS_REPLACED_BY,
    replacing_changes,
)
from infra.providers.lockbox.provider import REPLACED_BY as LOCKBOX
from infra.providers.redis.provider import REPLACED_BY as REDIS
from infra.providers.redis.provider import ManagedRedisCluster


def test_the_tables_are_the_providers() -> None:
    assert set(LOCKBOX_REPLACED_BY) == set(LOCKBOX)
    assert set(MANAGED_REDIS_REPLACED_BY) == set(REDIS)
    assert f"pulumi-python:{ManagedRedisCluster._resource_type_name}" == MANAGED_REDIS


def test_a_managed_redis_clusters_new_network_or_zones_replace_it_and_a_new_password_does_not() -> None:
    old = {"network_id": "enp1", "hosts": [{"zone": "a", "subnet_id": "s1"}], "password": "[secret]"}
    assert replacing_changes(MANAGED_REDIS, old, {**old, "password": "[secret]", "disk_size_gb": 32}) == []
    assert replacing_changes(MANAGED_REDIS, old, {**old, "network_id": "enp2"}) == ["network_id"]
    assert replacing_changes(MANAGED_REDIS, old, {**old, "hosts": []}) == ["hosts"]
