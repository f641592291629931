"""The VPC's gateways and route tables on loopback: the SDK's ``GatewayService`` and ``RouteTableService``.

On the shared fake cloud (``tests/infra/providers/yandex/fake_cloud.py``: TLS,
IAM, operations, idempotency keys, faults), as the API reference documents
what the providers call:

* ``GatewayService.Create`` needs a folder, a name unique in it
  (``ALREADY_EXISTS``) matching the API's pattern, and the shared egress
  gateway spec (the only kind); ``Update`` takes the mask's paths it knows;
  ``Delete`` of a gateway a route table still points at is
  ``FAILED_PRECONDITION``;
* ``RouteTableService.Create`` needs a known network (the operation fails
  ``NOT_FOUND`` otherwise) and routes whose next hop is an existing gateway
  or an address, each prefix a CIDR; ``Delete`` of a table a subnet uses is
  ``FAILED_PRECONDITION``;
* names are unique in a folder (``ALREADY_EXISTS``; "The name must be unique
  within the folder": yandex/cloud/vpc/v1/gateway_service.proto and
  route_table_service.proto, as the SDK's ``*_pb2.pyi`` carry them);
* ``List`` pages through a folder's gateways or route tables;
* ``Get`` and ``Delete`` of what does not exist are ``NOT_FOUND``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from yandex.cloud.vpc.v1 import (
    gateway_pb2,
    gateway_service_pb2,
    gateway_service_pb2_grpc,
    route_table_pb2,
    route_table_service_pb2,
    route_table_service_pb2_grpc,
)

from tests.infra.providers.yandex.fake_cloud import (
    CloudState,
    Served,
    Service,
    Servicer,
    abort,
    failure,
    now,
    page,
    serving_cloud,
)

NAME = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
UPDATABLE = frozenset({"name", "description", "labels", "static_routes"})


@dataclass
class VpcState(CloudState):
    networks: set[str] = field(default_factory=set)
    gateways: dict[str, gateway_pb2.Gateway] = field(default_factory=dict)
    tables: dict[str, route_table_pb2.RouteTable] = field(default_factory=dict)
    # route table ids subnets use (as a VpcSubnet's route_table_id would)
    attached: set[str] = field(default_factory=set)


def _check_name(name: str, context: grpc.ServicerContext) -> None:
    if not NAME.fullmatch(name):
        abort(context, grpc.StatusCode.INVALID_ARGUMENT, f"name: does not match {NAME.pattern}")


def _update_mask(request: Any, context: grpc.ServicerContext, allowed: frozenset[str]) -> set[str]:
    paths = set(request.update_mask.paths)
    if not paths or paths - allowed:
        abort(
            context, grpc.StatusCode.INVALID_ARGUMENT, f"Cannot update {sorted(paths - allowed) or 'nothing'}"
        )
    return paths


class GatewayService(Servicer, gateway_service_pb2_grpc.GatewayServiceServicer):
    service = "GatewayService"
    state: VpcState

    def _stored(self, gateway_id: str, context: grpc.ServicerContext) -> gateway_pb2.Gateway:
        gateway = self.state.gateways.get(gateway_id)
        if gateway is None:
            abort(context, grpc.StatusCode.NOT_FOUND, f"Gateway {gateway_id} not found")
        return gateway

    def Create(self, request: Any, context: grpc.ServicerContext) -> Any:
        def start() -> Any:
            if not request.folder_id:
                abort(context, grpc.StatusCode.INVALID_ARGUMENT, "folder_id is required")
            _check_name(request.name, context)
            if not request.HasField("shared_egress_gateway_spec"):
                abort(
                    context,
                    grpc.StatusCode.INVALID_ARGUMENT,
                    "gateway: a shared_egress_gateway_spec is required",
                )
            if any(
                g.folder_id == request.folder_id and g.name == request.name
                for g in self.state.gateways.values()
            ):
                abort(
                    context,
                    grpc.StatusCode.ALREADY_EXISTS,
                    f"Gateway with name {request.name} already exists",
                )
            gateway_id = self.state.new_id("enp")

            def finish() -> tuple[Any, Any]:
                gateway = gateway_pb2.Gateway(
                    id=gateway_id,
                    folder_id=request.folder_id,
                    created_at=now(),
                    name=request.name,
                    description=request.description,
                    labels=dict(request.labels),
                    shared_egress_gateway=gateway_pb2.SharedEgressGateway(),
                )
                self.state.gateways[gateway_id] = gateway
                return gateway, None

            return self.operation(
                "Create gateway", gateway_service_pb2.CreateGatewayMetadata(gateway_id=gateway_id), finish
            )

        return self.mutate("Create", context, start)

    def List(self, request: Any, context: grpc.ServicerContext) -> Any:
        self.enter("List", context)
        with self.state.lock:
            found = sorted(
                (g for g in self.state.gateways.values() if g.folder_id == request.folder_id),
                key=lambda gateway: gateway.id,
            )
        gateways, token = page(
            self.state, "GatewayService.List", found, request.page_size, request.page_token
        )
        return gateway_service_pb2.ListGatewaysResponse(gateways=gateways, next_page_token=token)

    def Get(self, request: Any, context: grpc.ServicerContext) -> gateway_pb2.Gateway:
        self.enter("Get", context)
        with self.state.lock:
            result = gateway_pb2.Gateway()
            result.CopyFrom(self._stored(request.gateway_id, context))
            return result

    def Update(self, request: Any, context: grpc.ServicerContext) -> Any:
        def start() -> Any:
            gateway = self._stored(request.gateway_id, context)
            paths = _update_mask(request, context, frozenset({"name", "description", "labels"}))
            if "name" in paths:
                _check_name(request.name, context)

            def finish() -> tuple[Any, Any]:
                for path in ("name", "description"):
                    if path in paths:
                        setattr(gateway, path, getattr(request, path))
                if "labels" in paths:
                    gateway.labels.clear()
                    gateway.labels.update(dict(request.labels))
                return gateway, None

            return self.operation(
                "Update gateway",
                gateway_service_pb2.UpdateGatewayMetadata(gateway_id=request.gateway_id),
                finish,
            )

        return self.mutate("Update", context, start)

    def Delete(self, request: Any, context: grpc.ServicerContext) -> Any:
        def start() -> Any:
            self._stored(request.gateway_id, context)
            if any(
                r.gateway_id == request.gateway_id
                for t in self.state.tables.values()
                for r in t.static_routes
            ):
                abort(context, grpc.StatusCode.FAILED_PRECONDITION, "Gateway is used by a route table")

            def finish() -> tuple[Any, Any]:
                self.state.gateways.pop(request.gateway_id, None)
                return None, None

            return self.operation(
                "Delete gateway",
                gateway_service_pb2.DeleteGatewayMetadata(gateway_id=request.gateway_id),
                finish,
            )

        return self.mutate("Delete", context, start)


class RouteTableService(Servicer, route_table_service_pb2_grpc.RouteTableServiceServicer):
    service = "RouteTableService"
    state: VpcState

    def _stored(self, table_id: str, context: grpc.ServicerContext) -> route_table_pb2.RouteTable:
        table = self.state.tables.get(table_id)
        if table is None:
            abort(context, grpc.StatusCode.NOT_FOUND, f"Route table {table_id} not found")
        return table

    def _check_routes(self, routes: Any, context: grpc.ServicerContext) -> None:
        for route in routes:
            try:
                ipaddress.IPv4Network(route.destination_prefix)
            except ValueError:
                abort(context, grpc.StatusCode.INVALID_ARGUMENT, f"Bad prefix {route.destination_prefix!r}")
            hop = route.WhichOneof("next_hop")
            if hop is None:
                abort(context, grpc.StatusCode.INVALID_ARGUMENT, "A static route needs a next hop")
            if hop == "gateway_id" and route.gateway_id not in self.state.gateways:
                abort(context, grpc.StatusCode.INVALID_ARGUMENT, f"Gateway {route.gateway_id} not found")

    def Create(self, request: Any, context: grpc.ServicerContext) -> Any:
        def start() -> Any:
            _check_name(request.name, context)
            self._check_routes(request.static_routes, context)
            if any(
                t.folder_id == request.folder_id and t.name == request.name
                for t in self.state.tables.values()
            ):
                abort(
                    context,
                    grpc.StatusCode.ALREADY_EXISTS,
                    f"Route table with name {request.name} already exists",
                )
            table_id = self.state.new_id("enp")

            def finish() -> tuple[Any, Any]:
                if request.network_id not in self.state.networks:
                    return None, failure(grpc.StatusCode.NOT_FOUND, f"Network {request.network_id} not found")
                table = route_table_pb2.RouteTable(
                    id=table_id,
                    folder_id=request.folder_id,
                    created_at=now(),
                    name=request.name,
                    description=request.description,
                    labels=dict(request.labels),
                    network_id=request.network_id,
                    static_routes=request.static_routes,
                )
                self.state.tables[table_id] = table
                return table, None

            return self.operation(
                "Create route table",
                route_table_service_pb2.CreateRouteTableMetadata(route_table_id=table_id),
                finish,
            )

        return self.mutate("Create", context, start)

    def List(self, request: Any, context: grpc.ServicerContext) -> Any:
        self.enter("List", context)
        with self.state.lock:
            found = sorted(
                (t for t in self.state.tables.values() if t.folder_id == request.folder_id),
                key=lambda table: table.id,
            )
        tables, token = page(
            self.state, "RouteTableService.List", found, request.page_size, request.page_token
        )
        return route_table_service_pb2.ListRouteTablesResponse(route_tables=tables, next_page_token=token)

    def Get(self, request: Any, context: grpc.ServicerContext) -> route_table_pb2.RouteTable:
        self.enter("Get", context)
        with self.state.lock:
            result = route_table_pb2.RouteTable()
            result.CopyFrom(self._stored(request.route_table_id, context))
            return result

    def Update(self, request: Any, context: grpc.ServicerContext) -> Any:
        def start() -> Any:
            table = self._stored(request.route_table_id, context)
            paths = _update_mask(request, context, UPDATABLE)
            if "static_routes" in paths:
                self._check_routes(request.static_routes, context)

            def finish() -> tuple[Any, Any]:
                for path in ("name", "description"):
                    if path in paths:
                        setattr(table, path, getattr(request, path))
                if "labels" in paths:
                    table.labels.clear()
                    table.labels.update(dict(request.labels))
                if "static_routes" in paths:
                    del table.static_routes[:]
                    table.static_routes.extend(request.static_routes)
                return table, None

            return self.operation(
                "Update route table",
                route_table_service_pb2.UpdateRouteTableMetadata(route_table_id=request.route_table_id),
                finish,
            )

        return self.mutate("Update", context, start)

    def Delete(self, request: Any, context: grpc.ServicerContext) -> Any:
        def start() -> Any:
            self._stored(request.route_table_id, context)
            if request.route_table_id in self.state.attached:
                abort(context, grpc.StatusCode.FAILED_PRECONDITION, "Route table is used by a subnet")

            def finish() -> tuple[Any, Any]:
                self.state.tables.pop(request.route_table_id, None)
                return None, None

            return self.operation(
                "Delete route table",
                route_table_service_pb2.DeleteRouteTableMetadata(route_table_id=request.route_table_id),
                finish,
            )

        return self.mutate("Delete", context, start)


FakeVpc = Served[VpcState]


@contextmanager
def serving_vpc(directory: Path, networks: set[str]) -> Iterator[FakeVpc]:
    state = VpcState(networks=set(networks))

    servicers: list[Service] = [
        (gateway_service_pb2_grpc.add_GatewayServiceServicer_to_server, GatewayService(state)),  # type: ignore[abstract]
        (route_table_service_pb2_grpc.add_RouteTableServiceServicer_to_server, RouteTableService(state)),  # type: ignore[abstract]
    ]
    with serving_cloud(directory, state, ["vpc"], servicers) as served:
        yield served
