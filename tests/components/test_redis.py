"""Managed Redis built alone: 7.2, TLS only, a host per zone, a secret generated password, no eviction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from pulumi.runtime import rpc

from components.redis import PASSWORD_LENGTH, ManagedRedis, ManagedRedisArgs
from infra.conventions import REDIS_TLS_PORT
from infra.ops.synth.mocks import RecordedResource, mock_id
from infra.ops.synth.runner import run_mocked
from infra.providers.redis.provider import ManagedRedisClusterProvider
from infra.providers.yandex.connection import Connection
from infra.settings.workloads import ManagedRedisProfile
from tests.components.harness import NAMING, STACK

# The program's own dynamic resource (infra/providers/redis/), not pulumi-yandex's MdbRedisCluster.
CLUSTER = "pulumi-python:dynamic/redis:ManagedRedisCluster"
CONNECTION = Connection(auth="service_account_key_file", key_file="/ci/key.json")
PASSWORD = "random:index/randomPassword:RandomPassword"  # pragma: allowlist secret (a type token)
THREE_ZONES = {"ru-central1-a": "subnet-a", "ru-central1-b": "subnet-b", "ru-central1-d": "subnet-d"}
PROFILE = ManagedRedisProfile(resource_preset_id="hm3-c2-m8", disk_size_gb=16)


@dataclass(frozen=True)
class Secret:
    """A value the engine received marked secret."""

    value: Any


@dataclass(frozen=True)
class Run:
    component: ManagedRedis
    recorded: list[RecordedResource]
    # What the mock cloud received, by resource type, secrets marked as Secret.
    sent: dict[str, dict[str, Any]]
    host: str

    def one(self, type_: str) -> RecordedResource:
        (found,) = (r for r in self.recorded if r.type == type_)
        return found


def marked(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return Secret(marked(value["value"]))
        return {k: marked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [marked(v) for v in value]
    return value


def redis(
    *,
    subnets: Mapping[str, str] = THREE_ZONES,
    production: bool = True,
    protect: bool = True,
    rotation: str = "initial",
) -> Run:
    hosts: list[str] = []

    def program() -> ManagedRedis:
        component = ManagedRedis(
            "redis",
            ManagedRedisArgs(
                naming=NAMING,
                folder_id="b1gfolder00000000001",
                network_id="enp-network",
                subnets=subnets,
                profile=PROFILE,
                production=production,
                protect=protect,
                rotation=rotation,
                connection=CONNECTION,
            ),
        )
        component.host.apply(hosts.append)
        return component

    component, monitor, _ = run_mocked(program, STACK)
    sent = {urn.split("::")[2].rsplit("$", 1)[-1]: marked(r.state) for urn, r in monitor.resources.items()}
    (host,) = hosts
    return Run(component, sorted(monitor.recorded, key=lambda r: r.urn), sent, host)


def test_redis_speaks_tls_only_and_is_version_7_2() -> None:
    inputs = redis().one(CLUSTER).inputs
    assert inputs["tls_enabled"] is True
    assert inputs["version"] == "7.2"


def test_the_queue_never_loses_jobs_to_eviction() -> None:
    assert redis().one(CLUSTER).inputs["maxmemory_policy"] == "NOEVICTION"


@pytest.mark.parametrize(
    "subnets", [{"ru-central1-a": "subnet-a"}, THREE_ZONES], ids=["one zone", "three zones"]
)
def test_one_host_in_each_zone_in_that_zones_subnet(subnets: dict[str, str]) -> None:
    hosts = redis(subnets=subnets).one(CLUSTER).inputs["hosts"]
    assert sorted((h["zone"], h["subnet_id"]) for h in hosts) == sorted(subnets.items())


def test_the_password_is_generated_long_url_safe_and_reaches_the_cluster_only_as_a_secret() -> None:
    run = redis()
    generator = run.one(PASSWORD).inputs
    assert generator["length"] >= PASSWORD_LENGTH >= 64
    # It goes into a rediss:// URL: letters and digits only.
    assert generator["special"] is False
    assert run.sent[CLUSTER]["password"] == Secret(run.sent[PASSWORD]["result"])
    # The record of what was deployed never shows it.
    assert run.one(CLUSTER).inputs["password"] == "[secret]"  # pragma: allowlist secret


def test_the_generated_password_is_one_the_api_takes() -> None:
    run = redis()
    password = run.sent[PASSWORD]["result"]
    assert len(password) == PASSWORD_LENGTH
    inputs = {**run.sent[CLUSTER], "password": password}
    assert ManagedRedisClusterProvider().check({}, inputs).failures == []


@pytest.mark.parametrize("rotation", ["initial", "2026-11-26T10:00:00+00:00"])
def test_the_password_is_keyed_on_the_app_groups_rotation_stamp(rotation: str) -> None:
    assert redis(rotation=rotation).one(PASSWORD).inputs["keepers"] == {"rotation": rotation}


def test_a_new_rotation_stamp_changes_the_password_generators_keepers_and_nothing_else() -> None:
    before, after = redis(), redis(rotation="2026-11-26T10:00:00+00:00")
    assert before.one(PASSWORD).inputs["keepers"] != after.one(PASSWORD).inputs["keepers"]
    assert before.one(CLUSTER).inputs == after.one(CLUSTER).inputs


@pytest.mark.parametrize(("production", "environment"), [(True, "PRODUCTION"), (False, "PRESTABLE")])
def test_the_cluster_environment_follows_whether_the_stack_is_production(
    production: bool, environment: str
) -> None:
    assert redis(production=production).one(CLUSTER).inputs["environment"] == environment


@pytest.mark.parametrize("protect", [True, False])
def test_protection_and_deletion_protection_follow_protect(protect: bool) -> None:
    cluster = redis(protect=protect).one(CLUSTER)
    assert cluster.protect is protect
    assert cluster.inputs["deletion_protection"] is protect


def test_the_cluster_is_named_sized_and_placed_by_its_arguments() -> None:
    inputs = redis().one(CLUSTER).inputs
    assert inputs["name"] == "samokoder-unit-redis"
    assert inputs["labels"]["component"] == "redis"
    assert (inputs["folder_id"], inputs["network_id"]) == ("b1gfolder00000000001", "enp-network")
    assert (inputs["resource_preset_id"], inputs["disk_size_gb"], inputs["disk_type_id"]) == (
        PROFILE.resource_preset_id,
        PROFILE.disk_size_gb,
        PROFILE.disk_type_id,
    )


def test_the_provider_reaches_the_api_as_the_stack_says_without_a_credential() -> None:
    inputs = redis().one(CLUSTER).inputs
    assert inputs["connection"] == CONNECTION.as_inputs()
    assert Connection.from_inputs(inputs["connection"]) == CONNECTION


def test_the_host_is_the_masters_stable_name_of_this_cluster() -> None:
    run = redis()
    # c-<cluster id>.rw.mdb.yandexcloud.net always resolves to the current master, through failovers.
    assert run.host == f"c-{mock_id(CLUSTER, 'redis')}.rw.mdb.yandexcloud.net"


def test_consumers_are_told_to_connect_with_tls_and_a_password_on_the_tls_port() -> None:
    component = redis().component
    assert (component.port, component.tls) == (REDIS_TLS_PORT, True)
    assert component.password is not None
