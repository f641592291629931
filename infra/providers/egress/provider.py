"""``EgressGateway`` and ``GatewayRouteTable``: the NAT gateway of private nodes and the route to it.

A route table's static routes send each prefix to a gateway (``0.0.0.0/0`` to
the NAT gateway). Name, description, labels and routes are updated in place; a
folder or network change replaces the resource. Adoption after a lost create,
gone meaning done, and inputs not known at preview (a new gateway's id): the
shared base (``infra/providers/yandex/converge.py``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, Resource

from infra.providers.yandex.connection import Connection
from infra.providers.yandex.converge import CloudProvider, connection, described
from infra.providers.yandex.unknowns import contains_unknowns, is_unknown

if TYPE_CHECKING:
    from yandex.cloud.vpc.v1.gateway_pb2 import Gateway
    from yandex.cloud.vpc.v1.route_table_pb2 import RouteTable

    from infra.providers.egress.client import GatewayApi, RouteTableApi

# The API's pattern for names (yandex/cloud/vpc/v1/gateway_service.proto, route_table_service.proto).
NAME: Final = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")


def _name_failures(news: Mapping[str, Any]) -> list[CheckFailure]:
    if "name" not in news or contains_unknowns(news["name"]) or NAME.fullmatch(str(news["name"])):
        return []
    return [CheckFailure("name", "a name is lowercase letters, digits and hyphens, starting with a letter")]


def _routes(pairs: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    """Routes (prefix, gateway) in one order, whatever order they were given in."""
    return [{"destination_prefix": prefix, "gateway_id": gateway} for prefix, gateway in sorted(pairs)]


def _route_failures(routes: Any) -> list[CheckFailure]:
    if is_unknown(routes):
        return []
    if not isinstance(routes, list) or not routes:
        return [CheckFailure("routes", "a route table needs at least one route (a prefix and a gateway)")]
    failures = []
    for index, route in enumerate(routes):
        if is_unknown(route):
            continue
        if not isinstance(route, dict) or set(route) != {"destination_prefix", "gateway_id"}:
            failures.append(
                CheckFailure(
                    f"routes[{index}]", "a route is a destination_prefix and a gateway_id, nothing else"
                )
            )
            continue
        prefix = route["destination_prefix"]
        if not is_unknown(prefix):
            try:
                ipaddress.IPv4Network(str(prefix))
            except ValueError:
                failures.append(CheckFailure(f"routes[{index}]", "destination_prefix is not an IPv4 CIDR"))
    return failures


class EgressGatewayProvider(CloudProvider):
    def api(self, props: Mapping[str, Any]) -> GatewayApi:
        # The SDK loads only where the provider runs, not in every program that declares a gateway.
        from infra.providers.egress.client import GatewayApi  # noqa: PLC0415

        return GatewayApi(connection(props), str(props["name"]))

    def view(self, found: Gateway) -> dict[str, Any]:
        return {"gateway_id": found.id, **described(found)}

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, [*self.check_connection(news), *_name_failures(news)])

    def made(self, api: GatewayApi, props: Mapping[str, Any]) -> Gateway:
        return api.create({"folder_id": props["folder_id"], **self.wanted(props)})


class GatewayRouteTableProvider(CloudProvider):
    replaced_by = stables = ("folder_id", "network_id")
    in_place = (*CloudProvider.in_place, "routes")

    def api(self, props: Mapping[str, Any]) -> RouteTableApi:
        from infra.providers.egress.client import RouteTableApi  # noqa: PLC0415

        return RouteTableApi(connection(props), str(props["name"]))

    def view(self, found: RouteTable) -> dict[str, Any]:
        return {
            "route_table_id": found.id,
            "network_id": found.network_id,
            "routes": _routes((r.destination_prefix, r.gateway_id) for r in found.static_routes),
            **described(found),
        }

    def wanted(self, props: Mapping[str, Any]) -> dict[str, Any]:
        routes = _routes((r["destination_prefix"], r["gateway_id"]) for r in props["routes"])
        return {**super().wanted(props), "routes": routes}

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = [*self.check_connection(news), *_name_failures(news), *_route_failures(news.get("routes"))]
        return CheckResult(news, failures)

    def made(self, api: RouteTableApi, props: Mapping[str, Any]) -> RouteTable:
        return api.create(
            {"folder_id": props["folder_id"], "network_id": props["network_id"], **self.wanted(props)}
        )

    def mismatch(self, props: Mapping[str, Any], found: RouteTable) -> str:
        if found.network_id == props["network_id"]:
            return ""
        return (
            f"in network {found.network_id}, not {props['network_id']}: delete it "
            "(`yc vpc route-table delete`)"
        )


class EgressGateway(Resource, module="egress", name="EgressGateway"):
    """A shared egress (NAT) gateway of a folder."""

    gateway_id: pulumi.Output[str]
    created_at: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        connection: Connection,
        folder_id: pulumi.Input[str],
        name: str,
        description: str = "",
        labels: Mapping[str, str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            EgressGatewayProvider(),
            resource_name,
            {
                "connection": connection.as_inputs(),
                "folder_id": folder_id,
                "name": name,
                "description": description,
                "labels": dict(labels or {}),
                "gateway_id": None,
                "created_at": None,
            },
            opts,
        )


class GatewayRouteTable(Resource, module="egress", name="GatewayRouteTable"):
    """A route table of a network whose static routes lead to gateways."""

    route_table_id: pulumi.Output[str]
    created_at: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        connection: Connection,
        folder_id: pulumi.Input[str],
        network_id: pulumi.Input[str],
        name: str,
        routes: Sequence[Mapping[str, pulumi.Input[str]]],
        description: str = "",
        labels: Mapping[str, str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            GatewayRouteTableProvider(),
            resource_name,
            {
                "connection": connection.as_inputs(),
                "folder_id": folder_id,
                "network_id": network_id,
                "name": name,
                "description": description,
                "labels": dict(labels or {}),
                "routes": [dict(route) for route in routes],
                "route_table_id": None,
                "created_at": None,
            },
            opts,
        )
