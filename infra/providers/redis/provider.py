"""``ManagedRedisCluster``: a Pulumi dynamic resource for one Managed Redis (Valkey) cluster.

* create sends the version, the password and ``maxmemory_policy`` in the
  API's ``redis`` config, TLS on, one host per zone in that zone's subnet,
  deletion protection as asked, and waits for the operation;
* password, ``maxmemory_policy``, the resource preset and the disk, name,
  description, labels and deletion protection are updated in place;
* a change of folder, network, environment, TLS or hosts replaces the
  cluster (as terraform-provider-yandex's ForceNew does, hosts aside: adding
  and removing hosts in place is not implemented); a version change is
  refused by check, as Terraform refuses it (upgrade a cluster outside
  Pulumi, then follow);
* a create that meets ``ALREADY_EXISTS`` (an earlier create whose answer was
  lost, or whose operation finished after the wait) adopts the folder's
  cluster of that name when its labels say it is this stack's and what cannot
  change in place matches, and refuses otherwise
  (``infra/providers/yandex/converge.py``); a cluster already gone is deleted;
* read refreshes everything but the password from the API (which never
  returns it); delete respects deletion protection;
* check and diff take inputs not known yet (a preview: a new random
  password, a new network's subnets): an unknown input is not judged, and is
  a change: an update, or a replacement where it replaces
  (``infra/providers/yandex/unknowns.py``).
"""

from __future__ import annotations

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

from infra.providers.redis.errors import CLUSTER, RedisError
from infra.providers.yandex.connection import Connection
from infra.providers.yandex.converge import already_exists, is_ours, not_ours_message
from infra.providers.yandex.unknowns import contains_unknowns, differs, is_unknown, same_or_unknown

if TYPE_CHECKING:
    from infra.providers.redis.client import ClusterSpec, ClusterState, RedisApi

ENVIRONMENTS: Final = ("PRODUCTION", "PRESTABLE")
# RedisConfig.MaxmemoryPolicy of yandex.cloud.mdb.redis.v1.config (a test compares them).
MAXMEMORY_POLICIES: Final = (
    "VOLATILE_LRU",
    "ALLKEYS_LRU",
    "VOLATILE_LFU",
    "ALLKEYS_LFU",
    "VOLATILE_RANDOM",
    "ALLKEYS_RANDOM",
    "VOLATILE_TTL",
    "NOEVICTION",
)
# What the API takes as a password: the proto's pattern (yandex/cloud/mdb/redis/v1/config/
# redis.proto, [a-zA-Z0-9@=+?*.,!&#$^<>_%-]{0,128}; a test compares) and the documented 8 at least.
PASSWORD_LENGTH: Final = (8, 128)
PASSWORD_SPECIALS: Final = frozenset("@=+?*.,!&#$^<>_%-")

# Inputs the API cannot change in place.
REPLACED_BY: Final = ("folder_id", "network_id", "environment", "tls_enabled", "hosts")
# Inputs Update changes (infra/providers/redis/client.py: UPDATE_PATHS).
UPDATABLE: Final = (
    "name",
    "description",
    "labels",
    "deletion_protection",
    "password",
    "maxmemory_policy",
    "resource_preset_id",
    "disk_size_gb",
    "disk_type_id",
)


def _connection(props: Mapping[str, Any]) -> Connection:
    return Connection.from_inputs(dict(props["connection"]))


def _api(props: Mapping[str, Any]) -> RedisApi:
    # The SDK and its stubs load only where the provider runs.
    from infra.providers.redis.client import RedisApi  # noqa: PLC0415

    return RedisApi(_connection(props), str(props["name"]))


def _spec(props: Mapping[str, Any]) -> ClusterSpec:
    from infra.providers.redis.client import ClusterSpec, Host  # noqa: PLC0415

    return ClusterSpec(
        folder_id=props["folder_id"],
        name=props["name"],
        description=props.get("description", ""),
        labels=dict(props.get("labels") or {}),
        environment=props["environment"],
        network_id=props["network_id"],
        version=props["version"],
        password=props["password"],
        maxmemory_policy=props["maxmemory_policy"],
        resource_preset_id=props["resource_preset_id"],
        disk_size_gb=int(props["disk_size_gb"]),
        disk_type_id=props["disk_type_id"],
        hosts=tuple(Host(h["zone"], h["subnet_id"]) for h in props["hosts"]),
        tls_enabled=bool(props.get("tls_enabled", True)),
        deletion_protection=bool(props.get("deletion_protection")),
    )


def _outputs(props: Mapping[str, Any], state: ClusterState) -> dict[str, Any]:
    return {
        **props,
        "cluster_id": state.id,
        "folder_id": state.folder_id,
        "name": state.name,
        "description": state.description,
        "labels": state.labels,
        "environment": state.environment,
        "network_id": state.network_id,
        "version": state.version,
        "maxmemory_policy": state.maxmemory_policy,
        "resource_preset_id": state.resource_preset_id,
        "disk_size_gb": state.disk_size_gb,
        "disk_type_id": state.disk_type_id,
        "tls_enabled": state.tls_enabled,
        "deletion_protection": state.deletion_protection,
        "hosts": [{"zone": h.zone, "subnet_id": h.subnet_id} for h in state.hosts],
        "host_names": list(state.host_names),
        "status": state.status,
        "health": state.health,
        "created_at": state.created_at,
    }


def password_problem(password: str) -> str | None:
    """Why the API would refuse `password` (never quoting it), or None."""
    low, high = PASSWORD_LENGTH
    if not low <= len(password) <= high:
        return f"the password must be {low} to {high} characters long (it is {len(password)})"
    if any(not (c.isascii() and c.isalnum()) and c not in PASSWORD_SPECIALS for c in password):
        return f"the password may hold letters, digits and {''.join(sorted(PASSWORD_SPECIALS))} only"
    return None


def _host_failures(hosts: Any) -> list[CheckFailure]:
    if is_unknown(hosts):
        return []
    if not isinstance(hosts, list) or not hosts:
        return [CheckFailure("hosts", "a cluster needs at least one host (a zone and its subnet)")]
    failures = []
    for index, host in enumerate(hosts):
        if is_unknown(host):
            continue
        if not isinstance(host, dict) or set(host) != {"zone", "subnet_id"}:
            failures.append(CheckFailure(f"hosts[{index}]", "a host is a zone and a subnet_id, nothing else"))
    return failures


def _known(news: Mapping[str, Any], key: str) -> bool:
    return key in news and not contains_unknowns(news[key])


def _adopt(api: RedisApi, props: Mapping[str, Any], error: RedisError) -> ClusterState:
    """The folder's cluster of this name, made ours again when its labels say it is this stack's.

    What cannot change in place must match; the rest (the password always: the
    API never returns it) is updated to what is asked.
    """
    found = api.find(str(props["folder_id"]))
    if found is None:
        raise error
    if not is_ours(found.labels, dict(props.get("labels") or {})):
        raise RedisError(not_ours_message(CLUSTER.kind, api.name, found.id, found.labels), error.code)
    found_fixed = {
        "network_id": found.network_id,
        "environment": found.environment,
        "tls_enabled": found.tls_enabled,
        "hosts": sorted((h.zone, h.subnet_id) for h in found.hosts),
    }
    wanted = {
        "network_id": props["network_id"],
        "environment": props["environment"],
        "tls_enabled": bool(props.get("tls_enabled", True)),
        "hosts": sorted((h["zone"], h["subnet_id"]) for h in props["hosts"]),
    }
    differing = sorted(key for key in wanted if found_fixed[key] != wanted[key])
    if differing:
        raise RedisError(
            f"{CLUSTER.kind} '{api.name}' ({found.id}) is this stack's but differs in "
            f"{', '.join(differing)}, which cannot change in place: delete it and run again",
            error.code,
        )
    current = _outputs(props, found)
    changes = {
        key: props[key]
        for key in UPDATABLE
        if key in props and (key == "password" or current.get(key) != props[key])
    }
    return api.update(found.id, changes)


class ManagedRedisClusterProvider(ResourceProvider):
    """Check and diff take inputs not known yet (preview); the rest only ever known ones."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = []
        if _known(news, "connection"):
            try:
                _connection(news)
            except (ValueError, TypeError) as error:
                failures.append(CheckFailure("connection", str(error)))
        if _known(news, "environment") and news["environment"] not in ENVIRONMENTS:
            failures.append(CheckFailure("environment", f"must be one of {', '.join(ENVIRONMENTS)}"))
        if _known(news, "maxmemory_policy") and news["maxmemory_policy"] not in MAXMEMORY_POLICIES:
            failures.append(
                CheckFailure("maxmemory_policy", f"must be one of {', '.join(MAXMEMORY_POLICIES)}")
            )
        if _known(news, "password") and (problem := password_problem(str(news["password"]))):
            failures.append(CheckFailure("password", problem))
        if _known(news, "disk_size_gb") and int(news["disk_size_gb"]) < 1:
            failures.append(CheckFailure("disk_size_gb", "the disk needs at least 1 GB"))
        if (
            olds.get("version")
            and _known(news, "version")
            and not contains_unknowns(olds["version"])
            and news["version"] != olds["version"]
        ):
            failures.append(
                CheckFailure(
                    "version",
                    f"upgrading {olds['version']} to {news['version']} is not done by this resource: "
                    "upgrade the cluster (`yc managed-redis cluster update --redis-version`), then set it",
                )
            )
        failures.extend(_host_failures(news.get("hosts")))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # An input not known yet may change: a replacement where it replaces, else an update.
        replaces = [key for key in REPLACED_BY if differs(olds.get(key), news.get(key))]
        changed = [key for key in (*UPDATABLE, "connection") if differs(olds.get(key), news.get(key))]
        return DiffResult(
            changes=bool(replaces or changed),
            replaces=replaces,
            stables=["folder_id", "network_id", "environment"],
            # Names are unique in a folder: the old cluster must go before its replacement
            # (and may have to, while the new name is not known).
            delete_before_replace=same_or_unknown(olds.get("name"), news.get("name")),
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        api = _api(props)
        try:
            state = api.create(_spec(props))
        except RedisError as error:
            if not already_exists(error):
                raise
            # A create of ours whose answer was lost, or that finished after we stopped waiting.
            state = _adopt(api, props, error)
        return CreateResult(state.id, _outputs(props, state))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        try:
            state = _api(props).get(id_)
        except RedisError as error:
            if error.code == grpc.StatusCode.NOT_FOUND:
                return ReadResult("", {})
            raise
        return ReadResult(id_, _outputs(props, state))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        changes: dict[str, Any] = {
            key: news[key] for key in UPDATABLE if key in news and olds.get(key) != news[key]
        }
        api = _api(news)
        state = api.update(id_, changes) if changes else api.get(id_)
        return UpdateResult(_outputs(news, state))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        _api(props).delete(id_)


class ManagedRedisCluster(Resource, module="redis", name="ManagedRedisCluster"):
    """One Managed Redis cluster; ``password`` is secret end to end."""

    cluster_id: pulumi.Output[str]
    host_names: pulumi.Output[list[str]]
    status: pulumi.Output[str]
    created_at: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        connection: Connection,
        folder_id: pulumi.Input[str],
        name: str,
        environment: str,
        network_id: pulumi.Input[str],
        version: str,
        password: pulumi.Input[str],
        maxmemory_policy: str,
        resource_preset_id: str,
        disk_size_gb: int,
        disk_type_id: str,
        hosts: Sequence[Mapping[str, pulumi.Input[str]]],
        tls_enabled: bool = True,
        deletion_protection: bool = False,
        description: str = "",
        labels: Mapping[str, str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        secret_opts = pulumi.ResourceOptions(additional_secret_outputs=["password"])
        super().__init__(
            ManagedRedisClusterProvider(),
            resource_name,
            {
                "connection": connection.as_inputs(),
                "folder_id": folder_id,
                "name": name,
                "description": description,
                "labels": dict(labels or {}),
                "environment": environment,
                "network_id": network_id,
                "version": version,
                "password": pulumi.Output.secret(password),
                "maxmemory_policy": maxmemory_policy,
                "resource_preset_id": resource_preset_id,
                "disk_size_gb": disk_size_gb,
                "disk_type_id": disk_type_id,
                "hosts": [dict(host) for host in hosts],
                "tls_enabled": tls_enabled,
                "deletion_protection": deletion_protection,
                "cluster_id": None,
                "host_names": None,
                "status": None,
                "created_at": None,
            },
            pulumi.ResourceOptions.merge(secret_opts, opts),
        )
