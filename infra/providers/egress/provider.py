"""``EgressGateway`` and ``GatewayRouteTable``: the NAT gateway of private nodes and the route to it.

* ``EgressGateway`` creates a shared egress gateway in the folder; name,
  description and labels are updated in place, a folder change replaces it;
* ``GatewayRouteTable`` creates a route table of the network whose static
  routes send each prefix to a gateway (``0.0.0.0/0`` to the NAT gateway);
  routes, name, description and labels are updated in place, a folder or
  network change replaces it;
* a create that meets ``ALREADY_EXISTS`` (an earlier create whose answer was
  lost, or whose operation outlived the wait) adopts the folder's resource of
  that name when its labels say it is this stack's, brings its fields to the
  inputs, and refuses otherwise (``infra/providers/yandex/converge.py``);
* read refreshes from the API and reports a resource gone (``NOT_FOUND``) as
  gone; delete of one already gone is success, so destroy converges;
* check and diff take inputs not known yet (a preview: a new gateway's id):
  an unknown input is not judged, and is a change
  (``infra/providers/yandex/unknowns.py``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import grpc
import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from infra.providers.egress.errors import EgressError
from infra.providers.yandex.connection import Connection
from infra.providers.yandex.converge import already_exists, is_ours, not_ours_message
from infra.providers.yandex.unknowns import contains_unknowns, differs, is_unknown, same_or_unknown

if TYPE_CHECKING:
    from infra.providers.egress.client import GatewayApi, RouteTableApi, RouteTableSpec

# The API's pattern for names (yandex/cloud/vpc/v1/gateway_service.proto, route_table_service.proto).
NAME: Final = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
UPDATABLE: Final = ("name", "description", "labels")


def _connection(props: Mapping[str, Any]) -> Connection:
    return Connection.from_inputs(dict(props["connection"]))


def _known(news: Mapping[str, Any], key: str) -> bool:
    return key in news and not contains_unknowns(news[key])


def _common_failures(news: Mapping[str, Any]) -> list[CheckFailure]:
    failures = []
    if _known(news, "connection"):
        try:
            _connection(news)
        except (ValueError, TypeError) as error:
            failures.append(CheckFailure("connection", str(error)))
    if _known(news, "name") and not NAME.fullmatch(str(news["name"])):
        failures.append(
            CheckFailure("name", "a name is lowercase letters, digits and hyphens, starting with a letter")
        )
    return failures


def _gone(error: EgressError) -> bool:
    return error.code == grpc.StatusCode.NOT_FOUND


class _VpcProvider(ResourceProvider):
    """What the gateway and the route table share: reading and deleting by id, gone meaning done."""

    def _api(self, props: Mapping[str, Any]) -> Any:
        raise NotImplementedError

    def _outputs(self, props: Mapping[str, Any], state: Any) -> dict[str, Any]:
        raise NotImplementedError

    def _wanted(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """What an adopted resource must hold, by its state's field name (fields updated in place)."""
        return {"description": props.get("description", ""), "labels": dict(props.get("labels") or {})}

    def _refuse(self, api: Any, props: Mapping[str, Any], found: Any, error: EgressError) -> None:
        """Raise when `found`, though this stack's, cannot become this resource in place."""

    def _create(self, api: Any, props: Mapping[str, Any]) -> Any:
        raise NotImplementedError

    def create(self, props: dict[str, Any]) -> CreateResult:
        api = self._api(props)
        try:
            state = self._create(api, props)
        except EgressError as error:
            if not already_exists(error):
                raise
            # A create of ours whose answer was lost, or that finished after we stopped waiting.
            state = self._adopt(api, props, error)
        return CreateResult(state.id, self._outputs(props, state))

    def _adopt(self, api: Any, props: Mapping[str, Any], error: EgressError) -> Any:
        """The folder's resource of this name, made ours again, when its labels say it is this stack's."""
        found = api.find(str(props["folder_id"]))
        if found is None:
            raise error
        if not is_ours(found.labels, dict(props.get("labels") or {})):
            raise EgressError(
                not_ours_message(api.subject.kind, api.name, found.id, found.labels), error.code
            ) from None
        self._refuse(api, props, found, error)
        changes = {key: value for key, value in self._wanted(props).items() if getattr(found, key) != value}
        return api.update(found.id, changes) if changes else found

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        try:
            state = self._api(props).get(id_)
        except EgressError as error:
            if _gone(error):
                return ReadResult("", {})
            raise
        return ReadResult(id_, self._outputs(props, state))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        try:
            self._api(props).delete(id_)
        except EgressError as error:
            if not _gone(error):
                raise


class EgressGatewayProvider(_VpcProvider):
    def _api(self, props: Mapping[str, Any]) -> GatewayApi:
        from infra.providers.egress.client import GatewayApi  # noqa: PLC0415

        return GatewayApi(_connection(props), str(props["name"]))

    def _outputs(self, props: Mapping[str, Any], state: Any) -> dict[str, Any]:
        return {
            **props,
            "gateway_id": state.id,
            "folder_id": state.folder_id,
            "name": state.name,
            "description": state.description,
            "labels": state.labels,
            "created_at": state.created_at,
        }

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, _common_failures(news))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = ["folder_id"] if differs(olds.get("folder_id"), news.get("folder_id")) else []
        changed = [key for key in (*UPDATABLE, "connection") if differs(olds.get(key), news.get(key))]
        return DiffResult(
            changes=bool(replaces or changed),
            replaces=replaces,
            stables=["folder_id"],
            delete_before_replace=same_or_unknown(olds.get("name"), news.get("name")),
        )

    def _create(self, api: GatewayApi, props: Mapping[str, Any]) -> Any:
        return api.create(
            props["folder_id"], props["name"], props.get("description", ""), props.get("labels") or {}
        )

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        changes: dict[str, Any] = {
            key: news[key] for key in UPDATABLE if key in news and olds.get(key) != news[key]
        }
        api = self._api(news)
        state = api.update(id_, changes) if changes else api.get(id_)
        return UpdateResult(self._outputs(news, state))


def _spec(props: Mapping[str, Any]) -> RouteTableSpec:
    from infra.providers.egress.client import Route, RouteTableSpec  # noqa: PLC0415

    return RouteTableSpec(
        folder_id=props["folder_id"],
        network_id=props["network_id"],
        name=props["name"],
        description=props.get("description", ""),
        labels=dict(props.get("labels") or {}),
        routes=tuple(sorted(Route(r["destination_prefix"], r["gateway_id"]) for r in props["routes"])),
    )


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


class GatewayRouteTableProvider(_VpcProvider):
    def _api(self, props: Mapping[str, Any]) -> RouteTableApi:
        from infra.providers.egress.client import RouteTableApi  # noqa: PLC0415

        return RouteTableApi(_connection(props), str(props["name"]))

    def _outputs(self, props: Mapping[str, Any], state: Any) -> dict[str, Any]:
        return {
            **props,
            "route_table_id": state.id,
            "folder_id": state.folder_id,
            "network_id": state.network_id,
            "name": state.name,
            "description": state.description,
            "labels": state.labels,
            "routes": [
                {"destination_prefix": r.destination_prefix, "gateway_id": r.gateway_id} for r in state.routes
            ],
            "created_at": state.created_at,
        }

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, [*_common_failures(news), *_route_failures(news.get("routes"))])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [key for key in ("folder_id", "network_id") if differs(olds.get(key), news.get(key))]
        changed = [
            key for key in (*UPDATABLE, "routes", "connection") if differs(olds.get(key), news.get(key))
        ]
        return DiffResult(
            changes=bool(replaces or changed),
            replaces=replaces,
            stables=["folder_id", "network_id"],
            delete_before_replace=same_or_unknown(olds.get("name"), news.get("name")),
        )

    def _create(self, api: RouteTableApi, props: Mapping[str, Any]) -> Any:
        return api.create(_spec(props))

    def _wanted(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return {**super()._wanted(props), "routes": _spec(props).routes}

    def _refuse(self, api: Any, props: Mapping[str, Any], found: Any, error: EgressError) -> None:
        if found.network_id != props["network_id"]:
            raise EgressError(
                f"{api.subject.kind} '{api.name}' ({found.id}) is this stack's but in network "
                f"{found.network_id}, not {props['network_id']}: delete it "
                "(`yc vpc route-table delete`) and run again",
                error.code,
            )

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        changes: dict[str, Any] = {
            key: news[key] for key in UPDATABLE if key in news and olds.get(key) != news[key]
        }
        if _spec(news).routes != _spec(olds).routes:
            changes["routes"] = _spec(news).routes
        api = self._api(news)
        state = api.update(id_, changes) if changes else api.get(id_)
        return UpdateResult(self._outputs(news, state))


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
