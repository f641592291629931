"""The NAT gateway and route table providers against a VPC API on loopback (SDK stubs, TLS, operations)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from infra.providers.egress.provider import EgressGatewayProvider, GatewayRouteTableProvider
from infra.providers.yandex.connection import IAM_TOKEN_ENV
from infra.providers.yandex.errors import YandexApiError
from infra.providers.yandex.unknowns import UNKNOWN
from tests.infra.providers.egress.fake_api import FakeVpc, serving_vpc

TOKEN = "t1.operator-token"
FOLDER = "b1gfolder00000000001"
NETWORK = "enpnetwork0000000001"


@pytest.fixture
def vpc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeVpc]:
    with serving_vpc(tmp_path, {NETWORK}) as api:
        api.state.tokens.add(TOKEN)
        monkeypatch.setenv(IAM_TOKEN_ENV, TOKEN)
        yield api


def gateway_inputs(api: FakeVpc, **overrides: Any) -> dict[str, Any]:
    return {
        "connection": api.connection().as_inputs(),
        "folder_id": FOLDER,
        "name": "samokoder-staging-egress",
        "description": "NAT for the nodes",
        "labels": {"component": "network"},
        **overrides,
    }


def table_inputs(api: FakeVpc, gateway_id: Any, **overrides: Any) -> dict[str, Any]:
    return {
        "connection": api.connection().as_inputs(),
        "folder_id": FOLDER,
        "network_id": NETWORK,
        "name": "samokoder-staging-egress",
        "description": "",
        "labels": {"component": "network"},
        "routes": [{"destination_prefix": "0.0.0.0/0", "gateway_id": gateway_id}],
        **overrides,
    }


def create_gateway(api: FakeVpc, **overrides: Any) -> tuple[str, dict[str, Any]]:
    provider = EgressGatewayProvider()
    checked = provider.check({}, gateway_inputs(api, **overrides))
    assert not checked.failures
    created = provider.create(checked.inputs)
    assert created.outs is not None
    return created.id, created.outs


def test_a_gateway_is_created_read_updated_and_deleted(vpc: FakeVpc) -> None:
    provider = EgressGatewayProvider()
    gateway_id, outs = create_gateway(vpc)
    stored = vpc.state.gateways[gateway_id]
    assert stored.HasField("shared_egress_gateway")
    assert (outs["gateway_id"], outs["name"], outs["labels"]) == (
        gateway_id,
        "samokoder-staging-egress",
        {"component": "network"},
    )
    assert provider.read(gateway_id, outs).id == gateway_id

    news = gateway_inputs(vpc, labels={"component": "network", "owner": "platform"})
    diff = provider.diff(gateway_id, outs, news)
    assert diff.changes
    assert not diff.replaces
    updated = provider.update(gateway_id, outs, news)
    assert updated.outs is not None
    assert updated.outs["labels"]["owner"] == "platform"
    assert dict(vpc.state.gateways[gateway_id].labels) == {"component": "network", "owner": "platform"}

    provider.delete(gateway_id, updated.outs)
    assert gateway_id not in vpc.state.gateways
    # Gone already: destroy converges, read reports it gone.
    provider.delete(gateway_id, updated.outs)
    assert provider.read(gateway_id, updated.outs).id == ""


def test_a_route_table_sends_the_default_route_to_the_gateway(vpc: FakeVpc) -> None:
    gateway_id, _ = create_gateway(vpc)
    provider = GatewayRouteTableProvider()
    checked = provider.check({}, table_inputs(vpc, gateway_id))
    assert not checked.failures
    created = provider.create(checked.inputs)
    assert created.outs is not None
    table = vpc.state.tables[created.id]
    assert [(r.destination_prefix, r.gateway_id) for r in table.static_routes] == [("0.0.0.0/0", gateway_id)]
    assert table.network_id == NETWORK
    assert created.outs["routes"] == [{"destination_prefix": "0.0.0.0/0", "gateway_id": gateway_id}]

    # A new gateway: the route follows in place.
    other_id, _ = create_gateway(vpc, name="samokoder-staging-egress-2")
    news = table_inputs(vpc, other_id)
    diff = provider.diff(created.id, created.outs, news)
    assert diff.changes
    assert not diff.replaces
    updated = provider.update(created.id, created.outs, news)
    assert updated.outs is not None
    assert [r.gateway_id for r in vpc.state.tables[created.id].static_routes] == [other_id]

    # A gateway in use cannot go before its route table.
    with pytest.raises(YandexApiError, match="route table still points at the gateway") as raised:
        EgressGatewayProvider().delete(other_id, gateway_inputs(vpc, name="samokoder-staging-egress-2"))
    assert raised.value.code == grpc.StatusCode.FAILED_PRECONDITION
    provider.delete(created.id, updated.outs)
    assert created.id not in vpc.state.tables


def test_a_network_change_replaces_the_table_and_an_unknown_gateway_is_a_change(vpc: FakeVpc) -> None:
    provider = GatewayRouteTableProvider()
    olds = table_inputs(vpc, "enpgateway0000000001")
    assert provider.diff("t", olds, {**olds, "network_id": "enpother"}).replaces == ["network_id"]
    at_preview = table_inputs(vpc, UNKNOWN)
    assert not provider.check({}, at_preview).failures
    diff = provider.diff("t", olds, at_preview)
    assert diff.changes
    assert not diff.replaces


@pytest.mark.parametrize(
    ("routes", "field"),
    [
        ([], "routes"),
        ([{"destination_prefix": "the internet", "gateway_id": "g"}], "routes[0]"),
        ([{"destination_prefix": "0.0.0.0/0"}], "routes[0]"),
    ],
)
def test_check_refuses_bad_routes(vpc: FakeVpc, routes: list[Any], field: str) -> None:
    failures = GatewayRouteTableProvider().check({}, table_inputs(vpc, "g", routes=routes)).failures
    assert [f.property for f in failures] == [field]


def test_check_refuses_a_name_the_api_would_refuse(vpc: FakeVpc) -> None:
    failures = EgressGatewayProvider().check({}, gateway_inputs(vpc, name="Samokoder_NAT")).failures
    assert [f.property for f in failures] == ["name"]


def test_transient_failures_are_retried_and_a_lost_answer_creates_one_gateway(vpc: FakeVpc) -> None:
    vpc.state.faults["GatewayService.Create"] = [grpc.StatusCode.UNAVAILABLE]
    vpc.state.lost_answers["GatewayService.Create"] = 1
    gateway_id, _ = create_gateway(vpc)
    assert list(vpc.state.gateways) == [gateway_id]


def test_a_route_to_a_missing_gateway_names_the_table_and_the_fix(vpc: FakeVpc) -> None:
    provider = GatewayRouteTableProvider()
    with pytest.raises(YandexApiError) as raised:
        provider.create(table_inputs(vpc, "enpmissing"))
    assert "VPC route table 'samokoder-staging-egress': create failed (INVALID_ARGUMENT" in str(raised.value)
