"""The Managed Redis provider's check and diff with inputs not known yet, as `pulumi preview` sends them.

A first preview knows no generated password, no network and no subnet; a
pull request's preview does not know a rotated password or a replaced network.
"""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.output import UNKNOWN
from pulumi.runtime import rpc

from infra.providers.redis.provider import ManagedRedisClusterProvider
from infra.providers.yandex.connection import Connection

UNKNOWNS = [UNKNOWN, rpc.UNKNOWN]
UNKNOWN_IDS = ["Unknown", "sentinel"]
CLUSTER_ID = "c9q00000000000000001"


def inputs(**overrides: Any) -> dict[str, Any]:
    return {
        "connection": Connection(auth="iam_token").as_inputs(),
        "folder_id": "b1gfolder00000000001",
        "name": "samokoder-staging-redis",
        "description": "",
        "labels": {"component": "redis"},
        "environment": "PRESTABLE",
        "network_id": "enpnetwork0000000001",
        "version": "7.2",
        "password": "p" * 64,
        "maxmemory_policy": "NOEVICTION",
        "resource_preset_id": "hm3-c2-m8",
        "disk_size_gb": 16,
        "disk_type_id": "network-ssd",
        "hosts": [{"zone": "ru-central1-a", "subnet_id": "e9bsubnet00000000001"}],
        "tls_enabled": True,
        "deletion_protection": False,
        **overrides,
    }


def deployed() -> dict[str, Any]:
    return {**inputs(), "cluster_id": CLUSTER_ID, "status": "RUNNING"}


@pytest.mark.parametrize("unknown", UNKNOWNS, ids=UNKNOWN_IDS)
@pytest.mark.parametrize(
    "key",
    [
        "password",
        "network_id",
        "hosts",
        "environment",
        "maxmemory_policy",
        "disk_size_gb",
        "version",
        "connection",
        "folder_id",
    ],
)
def test_a_first_preview_does_not_judge_what_it_does_not_know(unknown: Any, key: str) -> None:
    checked = ManagedRedisClusterProvider().check({}, inputs(**{key: unknown}))
    assert checked.failures == []
    assert checked.inputs[key] is unknown


@pytest.mark.parametrize("unknown", UNKNOWNS, ids=UNKNOWN_IDS)
def test_a_host_whose_subnet_is_not_known_yet_passes_the_check(unknown: Any) -> None:
    hosts = [{"zone": "ru-central1-a", "subnet_id": unknown}, unknown]
    assert ManagedRedisClusterProvider().check({}, inputs(hosts=hosts)).failures == []


@pytest.mark.parametrize("unknown", UNKNOWNS, ids=UNKNOWN_IDS)
@pytest.mark.parametrize(
    ("overrides", "replaces"),
    [
        ({"password": "UNKNOWN"}, []),  # pragma: allowlist secret
        ({"labels": {"component": "UNKNOWN"}}, []),
        ({"name": "UNKNOWN"}, []),
        ({"disk_size_gb": "UNKNOWN"}, []),
        ({"network_id": "UNKNOWN"}, ["network_id"]),
        ({"hosts": [{"zone": "ru-central1-a", "subnet_id": "UNKNOWN"}]}, ["hosts"]),
        ({"hosts": "UNKNOWN"}, ["hosts"]),
        ({"folder_id": "UNKNOWN"}, ["folder_id"]),
    ],
    ids=["password", "label", "name", "disk", "network", "subnet", "hosts", "folder"],
)
def test_an_unknown_is_an_update_or_where_it_replaces_a_replacement(
    unknown: Any, overrides: dict[str, Any], replaces: list[str]
) -> None:
    def place(value: Any) -> Any:
        if value == "UNKNOWN":
            return unknown
        if isinstance(value, dict):
            return {k: place(v) for k, v in value.items()}
        if isinstance(value, list):
            return [place(v) for v in value]
        return value

    provider = ManagedRedisClusterProvider()
    olds = deployed()
    news = provider.check(olds, inputs(**place(overrides))).inputs
    diff = provider.diff(CLUSTER_ID, olds, news)
    assert (diff.changes, diff.replaces) == (True, replaces)
    # A name not known yet may be the same: the old cluster would have to go first.
    assert diff.delete_before_replace is True


def test_a_version_not_known_yet_is_not_refused() -> None:
    provider = ManagedRedisClusterProvider()
    assert provider.check(deployed(), inputs(version=UNKNOWN)).failures == []
