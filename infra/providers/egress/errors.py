"""NAT gateway and route table API failures as messages that name the resource and the fix."""

from __future__ import annotations

import grpc

from infra.providers.yandex.errors import Subject, YandexApiError


class EgressError(YandexApiError):
    """A VPC gateway or route table call failed; the message says which and what to do."""


GATEWAY = Subject(
    "VPC NAT gateway",
    EgressError,
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
    EgressError,
    {
        grpc.StatusCode.PERMISSION_DENIED: "the account lacks vpc.privateAdmin on the folder",
        grpc.StatusCode.FAILED_PRECONDITION: "a subnet still uses the route table: detach it first",
        grpc.StatusCode.INVALID_ARGUMENT: "the API refused the routes (a prefix, or a gateway that "
        "does not exist): see its message",
    },
)
