"""The VPC calls the egress resources make, on the shared base (retried, operations waited for).

``GatewayService`` creates a shared egress gateway (the NAT gateway: the
only kind the API has); ``RouteTableService`` a route table of a network
whose static routes send a prefix to a gateway (``StaticRoute.gateway_id``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.field_mask_pb2 import FieldMask
from yandex.cloud.vpc.v1.gateway_pb2 import Gateway
from yandex.cloud.vpc.v1.gateway_service_pb2 import (
    CreateGatewayMetadata,
    CreateGatewayRequest,
    DeleteGatewayMetadata,
    DeleteGatewayRequest,
    GetGatewayRequest,
    ListGatewaysRequest,
    SharedEgressGatewaySpec,
    UpdateGatewayMetadata,
    UpdateGatewayRequest,
)
from yandex.cloud.vpc.v1.gateway_service_pb2_grpc import GatewayServiceStub
from yandex.cloud.vpc.v1.route_table_pb2 import RouteTable, StaticRoute
from yandex.cloud.vpc.v1.route_table_service_pb2 import (
    CreateRouteTableMetadata,
    CreateRouteTableRequest,
    DeleteRouteTableMetadata,
    DeleteRouteTableRequest,
    GetRouteTableRequest,
    ListRouteTablesRequest,
    UpdateRouteTableMetadata,
    UpdateRouteTableRequest,
)
from yandex.cloud.vpc.v1.route_table_service_pb2_grpc import RouteTableServiceStub

from infra.providers.egress.errors import GATEWAY, ROUTE_TABLE
from infra.providers.yandex.api import YandexApi
from infra.providers.yandex.connection import Connection

# Inputs either resource updates in place -> the update mask's path.
UPDATE_PATHS: Mapping[str, str] = {
    "name": "name",
    "description": "description",
    "labels": "labels",
    "routes": "static_routes",
}


@dataclass(frozen=True)
class GatewayState:
    id: str
    folder_id: str
    name: str
    description: str
    labels: dict[str, str]
    created_at: str


@dataclass(frozen=True, order=True)
class Route:
    destination_prefix: str
    gateway_id: str


@dataclass(frozen=True)
class RouteTableSpec:
    folder_id: str
    network_id: str
    name: str
    routes: tuple[Route, ...]
    description: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RouteTableState:
    id: str
    folder_id: str
    network_id: str
    name: str
    description: str
    labels: dict[str, str]
    routes: tuple[Route, ...]
    created_at: str


def _stamp(message: Any) -> str:
    return str(message.created_at.ToDatetime().isoformat()) + "Z"


def _gateway_state(gateway: Gateway) -> GatewayState:
    return GatewayState(
        id=gateway.id,
        folder_id=gateway.folder_id,
        name=gateway.name,
        description=gateway.description,
        labels=dict(gateway.labels),
        created_at=_stamp(gateway),
    )


def _table_state(table: RouteTable) -> RouteTableState:
    return RouteTableState(
        id=table.id,
        folder_id=table.folder_id,
        network_id=table.network_id,
        name=table.name,
        description=table.description,
        labels=dict(table.labels),
        routes=tuple(sorted(Route(r.destination_prefix, r.gateway_id) for r in table.static_routes)),
        created_at=_stamp(table),
    )


def _static_routes(routes: Sequence[Route]) -> list[StaticRoute]:
    return [StaticRoute(destination_prefix=r.destination_prefix, gateway_id=r.gateway_id) for r in routes]


class GatewayApi(YandexApi):
    subject = GATEWAY

    def __init__(self, connection: Connection, name: str) -> None:
        super().__init__(connection, name)
        self._gateways = self.client(GatewayServiceStub)

    def create(self, folder_id: str, name: str, description: str, labels: Mapping[str, str]) -> GatewayState:
        request = CreateGatewayRequest(
            folder_id=folder_id,
            name=name,
            description=description,
            labels=dict(labels),
            shared_egress_gateway_spec=SharedEgressGatewaySpec(),
        )
        created = self.run("create", self._gateways.Create, request, Gateway, CreateGatewayMetadata)
        return _gateway_state(created.response)

    def find(self, folder_id: str) -> GatewayState | None:
        """The folder's gateway of this name, if there is one (names are unique in a folder:
        yandex/cloud/vpc/v1/gateway_service.proto, CreateGatewayRequest.name)."""
        pages = self.pages(
            "find by name",
            self._gateways.List,
            lambda token: ListGatewaysRequest(folder_id=folder_id, page_size=100, page_token=token),
        )
        for page in pages:
            for gateway in page.gateways:
                if gateway.name == self._name:
                    return _gateway_state(gateway)
        return None

    def get(self, gateway_id: str) -> GatewayState:
        return _gateway_state(self.call("read", self._gateways.Get, GetGatewayRequest(gateway_id=gateway_id)))

    def update(self, gateway_id: str, changes: Mapping[str, Any]) -> GatewayState:
        request = UpdateGatewayRequest(
            gateway_id=gateway_id,
            update_mask=FieldMask(paths=sorted(UPDATE_PATHS[key] for key in changes)),
            shared_egress_gateway_spec=SharedEgressGatewaySpec(),
            name=str(changes.get("name", "")),
            description=str(changes.get("description", "")),
            labels=dict(changes.get("labels") or {}),
        )
        self.run("update", self._gateways.Update, request, Gateway, UpdateGatewayMetadata)
        return self.get(gateway_id)

    def delete(self, gateway_id: str) -> None:
        request = DeleteGatewayRequest(gateway_id=gateway_id)
        self.run("delete", self._gateways.Delete, request, meta=DeleteGatewayMetadata)


class RouteTableApi(YandexApi):
    subject = ROUTE_TABLE

    def __init__(self, connection: Connection, name: str) -> None:
        super().__init__(connection, name)
        self._tables = self.client(RouteTableServiceStub)

    def create(self, spec: RouteTableSpec) -> RouteTableState:
        request = CreateRouteTableRequest(
            folder_id=spec.folder_id,
            network_id=spec.network_id,
            name=spec.name,
            description=spec.description,
            labels=dict(spec.labels),
            static_routes=_static_routes(spec.routes),
        )
        created = self.run("create", self._tables.Create, request, RouteTable, CreateRouteTableMetadata)
        return _table_state(created.response)

    def find(self, folder_id: str) -> RouteTableState | None:
        """The folder's route table of this name, if there is one (names are unique in a folder:
        yandex/cloud/vpc/v1/route_table_service.proto, CreateRouteTableRequest.name)."""
        pages = self.pages(
            "find by name",
            self._tables.List,
            lambda token: ListRouteTablesRequest(folder_id=folder_id, page_size=100, page_token=token),
        )
        for page in pages:
            for table in page.route_tables:
                if table.name == self._name:
                    return _table_state(table)
        return None

    def get(self, table_id: str) -> RouteTableState:
        request = GetRouteTableRequest(route_table_id=table_id)
        return _table_state(self.call("read", self._tables.Get, request))

    def update(self, table_id: str, changes: Mapping[str, Any]) -> RouteTableState:
        fields: dict[str, Any] = {}
        for key, value in changes.items():
            if key == "routes":
                fields["static_routes"] = _static_routes(value)
            else:
                fields[key] = dict(value) if key == "labels" else value
        request = UpdateRouteTableRequest(
            route_table_id=table_id,
            update_mask=FieldMask(paths=sorted(UPDATE_PATHS[key] for key in changes)),
            **fields,
        )
        self.run("update", self._tables.Update, request, RouteTable, UpdateRouteTableMetadata)
        return self.get(table_id)

    def delete(self, table_id: str) -> None:
        request = DeleteRouteTableRequest(route_table_id=table_id)
        self.run("delete", self._tables.Delete, request, meta=DeleteRouteTableMetadata)
