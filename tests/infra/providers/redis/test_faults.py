"""The Managed Redis provider converges after ambiguous failures, as the Lockbox one does.

Against the loopback API: a create whose answer is lost and whose run ends
there leaves a cluster the next run adopts (labels ours) or leaves alone
(labels not ours); a create whose operation outlives the wait is adopted
next time; deleting a cluster already gone is success.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from infra.providers.redis import client
from infra.providers.redis.errors import RedisError
from infra.providers.redis.provider import ManagedRedisClusterProvider
from infra.providers.yandex import api as yandex_api
from infra.providers.yandex.connection import IAM_TOKEN_ENV
from tests.infra.providers.redis.fake_api import FakeRedis, serving_redis
from tests.infra.providers.redis.test_provider import NETWORK, OTHER_PASSWORD, SUBNETS, TOKEN, create
from tests.infra.providers.yandex import fake_cloud

OURS = {"project": "samokoder", "environment": "staging", "component": "redis", "managed-by": "pulumi"}


@pytest.fixture
def redis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRedis]:
    monkeypatch.setattr(client, "POLL_SECONDS", 0.01)
    with serving_redis(tmp_path, {NETWORK: SUBNETS}) as api:
        api.state.tokens.add(TOKEN)
        monkeypatch.setenv(IAM_TOKEN_ENV, TOKEN)
        yield api


def settle(api: FakeRedis) -> None:
    deadline = time.monotonic() + 5
    while any(not op.done for op in list(api.state.operations.values())):
        assert time.monotonic() < deadline, "an operation never finished"
        time.sleep(0.01)


def test_a_lost_create_answer_leaves_a_cluster_the_next_run_adopts(
    redis: FakeRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as during:
        during.setattr(yandex_api, "RETRY", yandex_api.RetryPolicy(attempts=1))
        redis.state.lost_answers["ClusterService.Create"] = 1
        with pytest.raises(RedisError, match="UNAVAILABLE"):
            create(redis, labels=OURS)
    settle(redis)
    assert len(redis.state.clusters) == 1
    # The next run: ALREADY_EXISTS, found by folder and name, adopted; the password set again.
    cluster_id, outs = create(redis, labels=OURS, password=OTHER_PASSWORD)
    assert list(redis.state.clusters) == [cluster_id]
    assert redis.state.clusters[cluster_id].password == OTHER_PASSWORD
    assert outs["labels"] == OURS


def test_a_create_that_outlives_the_wait_is_adopted_next_time(
    redis: FakeRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as during:
        during.setattr(client.RedisApi, "operation_timeout_seconds", 0.05)
        during.setattr(fake_cloud, "OPERATION_SECONDS", 0.4)
        with pytest.raises(RedisError, match="did not finish"):
            create(redis, labels=OURS)
    settle(redis)
    cluster_id, _ = create(redis, labels=OURS)
    assert list(redis.state.clusters) == [cluster_id]


def test_a_cluster_of_the_name_not_labelled_ours_is_left_alone(redis: FakeRedis) -> None:
    theirs, _ = create(redis, labels={"managed-by": "terraform"})
    with pytest.raises(RedisError, match=r"ALREADY_EXISTS.*not as this stack's.*pulumi import"):
        create(redis, labels=OURS, password=OTHER_PASSWORD)
    assert redis.state.clusters[theirs].password != OTHER_PASSWORD
    assert dict(redis.state.clusters[theirs].cluster.labels) == {"managed-by": "terraform"}


def test_deleting_a_cluster_already_gone_succeeds(redis: FakeRedis) -> None:
    cluster_id, outs = create(redis, labels=OURS)
    redis.state.clusters.pop(cluster_id)
    ManagedRedisClusterProvider().delete(cluster_id, outs)
    redis.state.faults["ClusterService.Delete"] = [grpc.StatusCode.UNAVAILABLE]
    ManagedRedisClusterProvider().delete(cluster_id, outs)
