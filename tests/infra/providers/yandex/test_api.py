"""The shared base against a fake API on loopback: retries, idempotency, operations, auth, messages.

The NAT gateway's client (infra/providers/egress/client.py) stands for every
resource on the base, the route table's where an operation fails; the
Lockbox provider's own tests run the same base.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.any_pb2 import Any as Packed
from yandex.cloud.vpc.v1.gateway_pb2 import Gateway
from yandex.cloud.vpc.v1.route_table_pb2 import RouteTable

from infra.providers.egress.client import GatewayApi, RouteTableApi
from infra.providers.yandex import api
from infra.providers.yandex.api import RetryPolicy
from infra.providers.yandex.connection import IAM_TOKEN_ENV, Connection, ConnectionError_
from infra.providers.yandex.errors import YandexApiError
from tests.infra.providers.egress.fake_api import FakeVpc, serving_vpc
from tests.infra.providers.yandex import fake_cloud
from tests.infra.providers.yandex.fake_cloud import authorized_key_file, serving_metadata

TOKEN = "t1.operator-token"
FOLDER = "b1gfolder00000000001"
NETWORK, MISSING = "enpnetwork0000000001", "enpmissing0000000001"
NAME = "samokoder-unit-egress"
CREATE, GET_OPERATION = "GatewayService.Create", "OperationService.Get"
UNAVAILABLE, EXHAUSTED, DEADLINE = (
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.DEADLINE_EXCEEDED,
)
# Worth another try by what they mean (issue 24): unreachable, slow, failed inside, lost a race.
RETRIED = (UNAVAILABLE, DEADLINE, grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.ABORTED)


@pytest.fixture
def cloud(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeVpc]:
    monkeypatch.setattr(api.YandexApi, "poll_seconds", 0.01)
    with serving_vpc(tmp_path, {NETWORK}) as served:
        served.state.tokens.add(TOKEN)
        monkeypatch.setenv(IAM_TOKEN_ENV, TOKEN)
        yield served


def gateways(cloud: FakeVpc, **connection: Any) -> GatewayApi:
    return GatewayApi(cloud.connection(**connection), NAME)


def create(cloud: FakeVpc, **connection: Any) -> str:
    """A gateway made through the base; its id."""
    return gateways(cloud, **connection).create({"folder_id": FOLDER, "name": NAME}).id


def test_the_default_policy_backs_off_exponentially_and_gives_up_within_seconds() -> None:
    policy = api.DEFAULT_RETRY
    assert policy.attempts == 8
    assert [policy.ceiling(retry) for retry in range(1, policy.attempts)] == [0.5, 1, 2, 4, 8, 16, 16]
    # Rides out an API blip of half a minute, and stays within the policy's own total.
    longest_wait = sum(policy.ceiling(retry) for retry in range(1, policy.attempts))
    assert longest_wait == 47.5
    assert longest_wait < policy.total_seconds
    capped = RetryPolicy(attempts=8, first_delay=1, max_delay=8)
    assert [capped.ceiling(retry) for retry in range(1, 8)] == [1, 2, 4, 8, 8, 8, 8]
    for retry in range(1, 8):
        assert capped.ceiling(retry) / 2 <= capped.delay(retry) <= capped.ceiling(retry)


@pytest.mark.parametrize("code", RETRIED, ids=lambda c: c.name)
def test_a_transient_failure_is_retried_and_the_work_done_once(cloud: FakeVpc, code: grpc.StatusCode) -> None:
    cloud.state.faults[CREATE] = [code, code]
    cloud.state.faults[GET_OPERATION] = [code]
    made = create(cloud)
    assert cloud.state.count(CREATE) == 3
    assert list(cloud.state.gateways) == [made]


def test_a_retry_after_a_lost_answer_reuses_the_idempotency_key_and_makes_one_gateway(cloud: FakeVpc) -> None:
    cloud.state.lost_answers[CREATE] = 1
    create(cloud)
    assert cloud.state.count(CREATE) == 2
    assert len(cloud.state.gateways) == 1
    ((_, first), (_, second)) = [k for k in cloud.state.keys if k[0] == CREATE]
    assert first is not None
    assert first == second
    # Another create is another key.
    with pytest.raises(YandexApiError, match="ALREADY_EXISTS"):
        create(cloud)
    assert len({key for method, key in cloud.state.keys if method == CREATE}) == 2


def test_retries_are_bounded_and_the_message_says_so(cloud: FakeVpc, monkeypatch: pytest.MonkeyPatch) -> None:
    # An odd number of tries ends on UNAVAILABLE, whatever the policy's count.
    cloud.state.faults[CREATE] = [UNAVAILABLE, grpc.StatusCode.INTERNAL] * 5
    monkeypatch.setattr(api, "RETRY", RetryPolicy(attempts=5, first_delay=0.001, max_delay=0.004))
    with pytest.raises(YandexApiError) as failed:
        create(cloud)
    assert cloud.state.count(CREATE) == api.RETRY.attempts
    message = str(failed.value)
    assert message.startswith(f"VPC NAT gateway '{NAME}': create failed (UNAVAILABLE")
    assert "check the endpoint and network" in message
    # What was tried: every status met, in order.
    met = ", ".join(
        ["UNAVAILABLE", "INTERNAL"] * (api.RETRY.attempts // 2) + ["UNAVAILABLE"] * (api.RETRY.attempts % 2)
    )
    assert re.search(rf"\(gave up after {api.RETRY.attempts} attempts in \d+\.\d s: {met}\)$", message)
    assert failed.value.code == UNAVAILABLE
    assert cloud.state.gateways == {}


def test_retries_stop_at_the_policys_total_time(cloud: FakeVpc, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        api, "RETRY", RetryPolicy(attempts=50, first_delay=0.05, max_delay=0.05, total_seconds=0.3)
    )
    cloud.state.faults[CREATE] = [grpc.StatusCode.ABORTED] * 50
    started = time.monotonic()
    with pytest.raises(YandexApiError, match=r"ABORTED.*gave up after \d+ attempts"):
        create(cloud)
    assert time.monotonic() - started < 2
    assert 2 <= cloud.state.count(CREATE) < 50


@pytest.mark.parametrize(("broken", "said"), [("repeat", "a second time"), ("endless", "within 7 pages")])
def test_a_list_that_never_ends_stops_with_an_error(
    cloud: FakeVpc, monkeypatch: pytest.MonkeyPatch, broken: str, said: str
) -> None:
    monkeypatch.setattr(api, "MAX_PAGES", 7)
    cloud.state.broken_lists["GatewayService.List"] = broken
    with pytest.raises(YandexApiError, match=rf"find by name failed: .*{said}.*nothing was changed"):
        gateways(cloud).find(FOLDER)
    assert cloud.state.count("GatewayService.List") == (2 if broken == "repeat" else 7)


@pytest.mark.parametrize(
    "code", [grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.PERMISSION_DENIED, EXHAUSTED]
)
def test_other_failures_are_not_retried(cloud: FakeVpc, code: grpc.StatusCode) -> None:
    cloud.state.faults[CREATE] = [code]
    with pytest.raises(YandexApiError, match=rf"create failed \({code.name}") as failed:
        create(cloud)
    assert cloud.state.count(CREATE) == 1
    assert "gave up" not in str(failed.value)


def test_reads_are_retried_and_carry_no_idempotency_key(cloud: FakeVpc) -> None:
    made = create(cloud)
    cloud.state.faults["GatewayService.Get"] = [grpc.StatusCode.INTERNAL]
    assert gateways(cloud).get(made).id == made
    assert cloud.state.count("GatewayService.Get") >= 2
    assert {method for method, _ in cloud.state.keys} == {CREATE}


def test_an_operation_that_does_not_finish_in_time_names_it(
    cloud: FakeVpc, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fake_cloud, "OPERATION_SECONDS", 2.0)
    monkeypatch.setattr(GatewayApi, "operation_timeout_seconds", 0.1)
    with pytest.raises(
        YandexApiError, match=r"create did not finish in 0.1 s \(operation op\d+\); check it with `yc"
    ):
        create(cloud)


def test_an_operations_error_is_the_resources_error(cloud: FakeVpc) -> None:
    # The call is accepted; the operation fails later, as the API fails a missing network.
    route = {"destination_prefix": "0.0.0.0/0", "gateway_id": create(cloud)}
    spec = {"folder_id": FOLDER, "network_id": MISSING, "name": NAME, "routes": [route]}
    with pytest.raises(
        YandexApiError,
        match=rf"^VPC route table '{NAME}': create failed \(NOT_FOUND: Network {MISSING} not found\)",
    ):
        RouteTableApi(cloud.connection(), NAME).create(spec)
    assert cloud.state.tables == {}


def test_an_iam_token_from_the_environment_authenticates(
    cloud: FakeVpc, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert create(cloud) in cloud.state.gateways
    monkeypatch.setenv(IAM_TOKEN_ENV, "t1.expired")
    with pytest.raises(YandexApiError, match=r"UNAUTHENTICATED.*YC_IAM_TOKEN"):
        gateways(cloud).get("enp")
    monkeypatch.delenv(IAM_TOKEN_ENV)
    with pytest.raises(ConnectionError_, match="reads YC_IAM_TOKEN, which is not set"):
        gateways(cloud)


def test_a_service_account_key_file_authenticates(cloud: FakeVpc, tmp_path: Path) -> None:
    key_file = authorized_key_file(tmp_path, cloud.state)
    assert create(cloud, auth="service_account_key_file", key_file=str(key_file)) in cloud.state.gateways
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(ConnectionError_, match=r"broken.json: cannot read an authorized key"):
        gateways(cloud, auth="service_account_key_file", key_file=str(tmp_path / "broken.json"))


def test_a_vms_metadata_service_authenticates(cloud: FakeVpc, monkeypatch: pytest.MonkeyPatch) -> None:
    cloud.state.tokens.add("t1.vm-account")
    monkeypatch.delenv(IAM_TOKEN_ENV)
    with serving_metadata("t1.vm-account") as address:
        monkeypatch.setenv("YC_METADATA_ADDR", address)
        assert create(cloud, auth="metadata") in cloud.state.gateways


def test_connection_settings_that_cannot_work_name_the_setting() -> None:
    with pytest.raises(ConnectionError_, match="auth must be one of"):
        Connection(auth="password")  # type: ignore[arg-type]
    with pytest.raises(ConnectionError_, match="key_file is required with auth 'service_account_key_file'"):
        Connection(auth="service_account_key_file")
    with pytest.raises(ConnectionError_, match="and only with it"):
        Connection(auth="metadata", key_file="key.json")
    assert Connection.from_inputs(Connection(auth="metadata").as_inputs()) == Connection(auth="metadata")


def test_an_answer_without_the_expected_message_is_an_error_not_an_empty_id(cloud: FakeVpc) -> None:
    client = gateways(cloud)
    packed = Packed()
    packed.Pack(Gateway(id="enpgateway0000000001"))
    assert client.unpack("create", packed, Gateway).id == "enpgateway0000000001"
    with pytest.raises(YandexApiError, match=rf"'{NAME}': create: the API's answer held nothing where "):
        client.unpack("create", Packed(), Gateway)
    with pytest.raises(YandexApiError, match=r"held type.googleapis.com/yandex.cloud.vpc.v1.Gateway where "):
        client.unpack("create", packed, RouteTable)
