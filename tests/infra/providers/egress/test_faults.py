"""The NAT gateway's and the route table's fault tables, against the loopback VPC API.

As the Lockbox table (``tests/infra/providers/fault_table.py``): every status
at the first call of every method of each step (and of a create that adopts
an earlier run's resource), every retried status on every attempt, each
mutating call's answer lost (retried, or the run ending there), an operation
outliving the wait, lists whose page tokens never end, a resource of the name
that is someone else's. A route table's rows have their gateway made first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pulumi.dynamic import ResourceProvider
from yandex.cloud.vpc.v1 import gateway_pb2, route_table_pb2

from infra.providers.egress.provider import EgressGatewayProvider, GatewayRouteTableProvider
from infra.providers.yandex import api as yandex_api
from infra.providers.yandex.connection import IAM_TOKEN_ENV
from tests.infra.providers.egress.fake_api import FakeVpc, VpcState, serving_vpc
from tests.infra.providers.egress.test_provider import FOLDER, NETWORK, TOKEN, gateway_inputs, table_inputs
from tests.infra.providers.fault_rows import adopting, fail, lost_faults, orphan, shared_faults
from tests.infra.providers.fault_table import Fault, World, assert_table, run_row, settle, status_faults
from tests.infra.providers.yandex import fake_cloud

# End to end (a loopback API): out of `make quick`, in `make test`.
pytestmark = pytest.mark.slow

OURS = {"project": "samokoder", "environment": "staging", "component": "network", "managed-by": "pulumi"}
NAME = "samokoder-staging-egress"


@dataclass
class Run(World):
    served: FakeVpc | None = None
    kind: str = "gateway"
    gateway_id: str = ""

    @property
    def api(self) -> FakeVpc:
        assert self.served is not None
        return self.served

    def snapshot(self) -> dict[str, str]:
        state = self.api.state
        with state.lock:
            held: dict[str, Any] = {
                **{key: (g.name, dict(g.labels), g.description) for key, g in state.gateways.items()},
                **{
                    key: (
                        t.name,
                        dict(t.labels),
                        t.description,
                        [(r.destination_prefix, r.gateway_id) for r in t.static_routes],
                    )
                    for key, t in state.tables.items()
                },
            }
        return {key: repr(value) for key, value in held.items()}

    def provider(self) -> ResourceProvider:
        return EgressGatewayProvider() if self.kind == "gateway" else GatewayRouteTableProvider()

    def inputs(self, *, updated: bool = False) -> dict[str, Any]:
        description = "NAT for the nodes, second" if updated else "NAT for the nodes"
        if self.kind == "gateway":
            news = gateway_inputs(self.api, labels=OURS, description=description)
        else:
            routes = [{"destination_prefix": "0.0.0.0/0", "gateway_id": self.gateway_id}]
            if updated:
                routes.append({"destination_prefix": "192.168.0.0/16", "gateway_id": self.gateway_id})
            news = table_inputs(
                self.api, self.gateway_id, labels=OURS, description=description, routes=routes
            )
        checked = self.provider().check(self.outs, news)
        assert not checked.failures
        return dict(checked.inputs)

    def mine(self) -> list[Any]:
        """What the cloud holds of this resource's kind and name, not someone else's."""
        held = self.api.state.gateways if self.kind == "gateway" else self.api.state.tables
        return [r for r in held.values() if r.name == NAME and r.id not in self.theirs]

    def plant(self, *, ours: bool) -> str:
        labels = OURS if ours else {"managed-by": "terraform", "project": "other"}
        state = self.api.state
        with state.lock:
            key = state.new_id("enp")
            if self.kind == "gateway":
                state.gateways[key] = gateway_pb2.Gateway(
                    id=key, folder_id=FOLDER, name=NAME, labels=labels, description="old"
                )
            else:
                route = route_table_pb2.StaticRoute(
                    destination_prefix="10.0.0.0/8", gateway_id=self.gateway_id
                )
                state.tables[key] = route_table_pb2.RouteTable(
                    id=key,
                    folder_id=FOLDER,
                    network_id=NETWORK,
                    name=NAME,
                    labels=labels,
                    static_routes=[route],
                )
        return key

    def converged(self, step: str) -> None:
        mine = self.mine()
        if step == "delete":
            assert mine == [], "still there"
            return
        assert len(mine) == 1, f"{len(mine)} named {NAME}"
        wanted = self.inputs(updated=step == "update")
        (held,) = mine
        assert self.resource_id == held.id
        assert (held.description, dict(held.labels)) == (wanted["description"], OURS)
        if self.kind == "table":
            assert sorted((r.destination_prefix, r.gateway_id) for r in held.static_routes) == sorted(
                (r["destination_prefix"], r["gateway_id"]) for r in wanted["routes"]
            )
            assert self.outs["route_table_id"] == held.id


def _faults(service: str) -> tuple[Fault, ...]:
    create, update, delete, get, list_ = (
        f"{service}.{m}" for m in ("Create", "Update", "Delete", "Get", "List")
    )
    operation = "OperationService.Get"
    return (
        *status_faults("create", (create, operation), fail, adopted_at={operation}),
        *status_faults("update", (update, operation, get), fail),
        *status_faults("read", (get,), fail, gone_at={get}),
        *status_faults("delete", (delete, operation), fail, gone_at={operation}, untrue={delete}),
        *adopting((list_, update, operation, get)),
        *lost_faults(
            [
                ("create", create, None),
                ("create", update, orphan),
                ("update", update, None),
                ("delete", delete, None),
            ]
        ),
        *shared_faults(create, list_, r"\(PERMISSION_DENIED"),
    )


def _row(fault: Fault, kind: str, api: FakeVpc, monkeypatch: pytest.MonkeyPatch) -> Any:
    settle(api.state)
    # A fresh cloud for each row, on the same server (its servicers hold this state object).
    api.state.__dict__.update(VpcState(networks={NETWORK}).__dict__)
    api.state.tokens.add(TOKEN)
    monkeypatch.setenv(IAM_TOKEN_ENV, TOKEN)
    run = Run(api.state, monkeypatch, served=api, kind=kind)
    if kind == "table":
        gateway = EgressGatewayProvider().create(gateway_inputs(api, labels=OURS))
        run.gateway_id = gateway.id
        run.others.add(gateway.id)
    return run_row(fault, run)


@pytest.mark.parametrize(
    ("kind", "service", "provider"),
    [("gateway", "GatewayService", "VPC NAT gateway"), ("table", "RouteTableService", "VPC route table")],
)
def test_every_fault_converges_on_rerun_and_harms_nothing(
    tmp_path: Path, kind: str, service: str, provider: str
) -> None:
    faults = _faults(service)
    with pytest.MonkeyPatch.context() as monkeypatch, serving_vpc(tmp_path, {NETWORK}) as api:
        monkeypatch.setattr(yandex_api.YandexApi, "poll_seconds", 0.005)
        monkeypatch.setattr(fake_cloud, "OPERATION_SECONDS", 0.01)
        verdicts = [_row(fault, kind, api, monkeypatch) for fault in faults]
    assert len(verdicts) > 150
    assert_table(provider, verdicts)
