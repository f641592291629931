"""The VPC calls the egress resources make, on the shared base (retried, operations waited for).

``GatewayService`` creates a shared egress gateway (the NAT gateway: the
only kind the API has); ``RouteTableService`` a route table of a network
whose static routes send a prefix to a gateway (``StaticRoute.gateway_id``).
A resource's fields arrive as the provider's inputs: name, description,
labels, and a route table's network and ``routes`` (the API's ``static_routes``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import grpc
from google.protobuf.field_mask_pb2 import FieldMask
from yandex.cloud.vpc.v1.gateway_pb2 import Gateway
from yandex.cloud.vpc.v1.gateway_service_pb2 import (
    CreateGatewayRequest,
    DeleteGatewayRequest,
    GetGatewayRequest,
    ListGatewaysRequest,
    SharedEgressGatewaySpec,
    UpdateGatewayRequest,
)
from yandex.cloud.vpc.v1.gateway_service_pb2_grpc import GatewayServiceStub
from yandex.cloud.vpc.v1.route_table_pb2 import RouteTable
from yandex.cloud.vpc.v1.route_table_service_pb2 import (
    CreateRouteTableRequest,
    DeleteRouteTableRequest,
    GetRouteTableRequest,
    ListRouteTablesRequest,
    UpdateRouteTableRequest,
)
from yandex.cloud.vpc.v1.route_table_service_pb2_grpc import RouteTableServiceStub

from infra.providers.yandex.api import YandexApi
from infra.providers.yandex.connection import Connection
from infra.providers.yandex.errors import Subject

GATEWAY = Subject(
    "VPC NAT gateway",
    {
        grpc.StatusCode.PERMISSION_DENIED: "the account lacks vpc.gateways.editor on the folder "
        "(docs/iam-roles.md)",
        grpc.StatusCode.RESOURCE_EXHAUSTED: "the gateways-per-cloud quota is used up: delete an unused "
        "gateway or ask for a higher quota",
        grpc.StatusCode.FAILED_PRECONDITION: "a route table still points at the gateway: delete or change "
        "the route table first",
    },
)

ROUTE_TABLE = Subject(
    "VPC route table",
    {
        grpc.StatusCode.PERMISSION_DENIED: "the account lacks vpc.privateAdmin on the folder",
        grpc.StatusCode.FAILED_PRECONDITION: "a subnet still uses the route table: detach it first",
        grpc.StatusCode.INVALID_ARGUMENT: "the API refused the routes (a prefix, or a gateway that "
        "does not exist): see its message",
    },
)


def _fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs as request fields: a route is a ``StaticRoute`` of the same two fields."""
    return {("static_routes" if key == "routes" else key): value for key, value in fields.items()}


def _mask(fields: Mapping[str, Any]) -> FieldMask:
    return FieldMask(paths=sorted(fields))


class GatewayApi(YandexApi):
    subject = GATEWAY

    def __init__(self, connection: Connection, name: str) -> None:
        super().__init__(connection, name)
        self._gateways = self.sdk.client(GatewayServiceStub)

    def create(self, fields: Mapping[str, Any]) -> Gateway:
        request = CreateGatewayRequest(**fields, shared_egress_gateway_spec=SharedEgressGatewaySpec())
        return self.unpack("create", self.run("create", self._gateways.Create, request).response, Gateway)

    def find(self, folder_id: str) -> Gateway | None:
        found: Gateway | None = self.find_in(self._gateways.List, ListGatewaysRequest, folder_id, "gateways")
        return found

    def get(self, gateway_id: str) -> Gateway:
        return self.call("read", self._gateways.Get, GetGatewayRequest(gateway_id=gateway_id))

    def update(self, gateway_id: str, fields: Mapping[str, Any]) -> Gateway:
        request = UpdateGatewayRequest(
            gateway_id=gateway_id,
            update_mask=_mask(fields),
            shared_egress_gateway_spec=SharedEgressGatewaySpec(),
            **fields,
        )
        self.run("update", self._gateways.Update, request)
        return self.get(gateway_id)

    def delete(self, gateway_id: str) -> None:
        self.run("delete", self._gateways.Delete, DeleteGatewayRequest(gateway_id=gateway_id))


class RouteTableApi(YandexApi):
    subject = ROUTE_TABLE

    def __init__(self, connection: Connection, name: str) -> None:
        super().__init__(connection, name)
        self._tables = self.sdk.client(RouteTableServiceStub)

    def create(self, fields: Mapping[str, Any]) -> RouteTable:
        request = CreateRouteTableRequest(**_fields(fields))
        return self.unpack("create", self.run("create", self._tables.Create, request).response, RouteTable)

    def find(self, folder_id: str) -> RouteTable | None:
        found: RouteTable | None = self.find_in(
            self._tables.List, ListRouteTablesRequest, folder_id, "route_tables"
        )
        return found

    def get(self, table_id: str) -> RouteTable:
        return self.call("read", self._tables.Get, GetRouteTableRequest(route_table_id=table_id))

    def update(self, table_id: str, fields: Mapping[str, Any]) -> RouteTable:
        fields = _fields(fields)
        request = UpdateRouteTableRequest(route_table_id=table_id, update_mask=_mask(fields), **fields)
        self.run("update", self._tables.Update, request)
        return self.get(table_id)

    def delete(self, table_id: str) -> None:
        self.run("delete", self._tables.Delete, DeleteRouteTableRequest(route_table_id=table_id))
