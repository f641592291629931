"""Every dynamic provider's check and diff with unknowns, through the real dynamic provider protocol.

The provider runs as ``python -m pulumi.dynamic``, the process the engine
starts, and is called over gRPC the way the engine calls it at a first
``pulumi preview`` (nothing exists: every id and generated value unknown) and
at a pull request's preview (a rotated value, a replaced key or network, a new gateway).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pulumi.runtime.rpc import UNKNOWN

from infra.providers.egress.provider import GatewayRouteTableProvider
from infra.providers.lockbox.provider import LockboxSecretProvider
from infra.providers.yandex.connection import Connection
from tests.infra.providers.dynamic_protocol import DynamicProvider, serving_dynamic_provider

CONNECTION = Connection(auth="iam_token").as_inputs()
GATEWAY = "enpgateway0000000001"


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


def table_inputs(**overrides: Any) -> dict[str, Any]:
    return {
        "connection": CONNECTION,
        "folder_id": "b1gfolder00000000001",
        "network_id": "enpnetwork0000000001",
        "name": "samokoder-staging-egress",
        "description": "",
        "labels": {"component": "network"},
        "routes": [{"destination_prefix": "0.0.0.0/0", "gateway_id": GATEWAY}],
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
def route_table(engine: Any) -> DynamicProvider:
    return DynamicProvider(engine, GatewayRouteTableProvider())


def deployed(provider: DynamicProvider, inputs: dict[str, Any], **outputs: Any) -> dict[str, Any]:
    """The state after create: the checked inputs and what the API reported."""
    checked = provider.check({}, inputs)
    assert checked.failures == {}
    return {**checked.inputs, **outputs}


def test_lockbox_at_a_first_preview(lockbox: DynamicProvider) -> None:
    news = lockbox_inputs(payload=UNKNOWN, kms_key_id=UNKNOWN, payload_viewers=[UNKNOWN])
    checked = lockbox.check({}, news)
    assert checked.failures == {}
    assert "fingerprints" not in checked.inputs
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
    diff = lockbox.diff("e6q00000000000000001", olds, checked.inputs)
    assert (diff.changes, diff.replaces, diff.delete_before_replace) == ("DIFF_SOME", replaces, True)


def test_lockbox_with_nothing_unknown_and_unchanged(lockbox: DynamicProvider) -> None:
    olds = deployed(lockbox, lockbox_inputs(), secret_id="e6q00000000000000001")
    checked = lockbox.check(olds, lockbox_inputs())
    assert lockbox.diff("e6q00000000000000001", olds, checked.inputs).changes == "DIFF_NONE"


def test_a_route_table_at_a_first_preview(route_table: DynamicProvider) -> None:
    news = table_inputs(
        network_id=UNKNOWN, routes=[{"destination_prefix": "0.0.0.0/0", "gateway_id": UNKNOWN}]
    )
    checked = route_table.check({}, news)
    assert checked.failures == {}
    assert (checked.inputs["network_id"], checked.inputs["routes"][0]["gateway_id"]) == (UNKNOWN, UNKNOWN)


@pytest.mark.parametrize(
    ("overrides", "replaces"),
    [
        ({"routes": [{"destination_prefix": "0.0.0.0/0", "gateway_id": UNKNOWN}]}, []),
        ({"labels": {"component": UNKNOWN}}, []),
        ({"network_id": UNKNOWN}, ["network_id"]),
        ({"folder_id": UNKNOWN}, ["folder_id"]),
    ],
    ids=["a new gateway", "a label", "a replaced network", "another folder"],
)
def test_a_route_table_at_a_pull_requests_preview(
    route_table: DynamicProvider, overrides: dict[str, Any], replaces: list[str]
) -> None:
    olds = deployed(route_table, table_inputs(), route_table_id="enptable000000000001")
    checked = route_table.check(olds, table_inputs(**overrides))
    assert checked.failures == {}
    diff = route_table.diff("enptable000000000001", olds, checked.inputs)
    assert (diff.changes, diff.replaces, diff.delete_before_replace) == ("DIFF_SOME", replaces, True)


def test_a_route_table_with_nothing_unknown_and_unchanged(route_table: DynamicProvider) -> None:
    olds = deployed(route_table, table_inputs(), route_table_id="enptable000000000001")
    checked = route_table.check(olds, table_inputs())
    assert route_table.diff("enptable000000000001", olds, checked.inputs).changes == "DIFF_NONE"
