"""A Managed Redis API on loopback: ``yandex.cloud.mdb.redis.v1.ClusterService`` from the SDK's own stubs.

On the shared fake cloud (``tests/infra/providers/yandex/fake_cloud.py``: TLS,
IAM, operations, idempotency keys, faults), it behaves as the API reference
documents for what the provider calls:

* ``Create`` checks the request first: a supported version; the config in the
  version-independent ``redis`` field, with a password of 8 to 128 allowed
  characters (a request without a config, as terraform-provider-yandex v0.71
  builds one for 7.2, has none and is refused); a resource preset, a disk of
  whole GiB of a known type; at least one host, each in a zone of the network
  and in that zone's subnet; a name unique in the folder (``ALREADY_EXISTS``);
  an unknown network fails the operation (``NOT_FOUND``);
* the cluster it makes runs one host per host spec, named after its zone,
  with the config as asked and the effective one beside it; the password is
  kept but never returned;
* ``Update`` takes the update mask's paths it knows (others are
  ``INVALID_ARGUMENT``), and a disk only grows;
* ``Delete`` of a protected cluster is ``FAILED_PRECONDITION``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from yandex.cloud.mdb.redis.v1 import cluster_pb2, cluster_service_pb2, cluster_service_pb2_grpc
from yandex.cloud.mdb.redis.v1.config import redis_pb2

from tests.infra.providers.yandex.fake_cloud import (
    CloudState,
    Served,
    Service,
    Servicer,
    abort,
    failure,
    now,
    serving_cloud,
)

GIB = 1024**3
VERSIONS = frozenset({"7.2", "8.1"})
DISK_TYPES = frozenset({"network-ssd", "network-hdd", "local-ssd", "network-ssd-nonreplicated"})
PASSWORD = re.compile(r"^[a-zA-Z0-9@=+?*.,!&#$^<>_%-]{8,128}$")
UPDATABLE = frozenset(
    {
        "name",
        "description",
        "labels",
        "deletion_protection",
        "config_spec.redis.password",
        "config_spec.redis.maxmemory_policy",
        "config_spec.resources.resource_preset_id",
        "config_spec.resources.disk_size",
        "config_spec.resources.disk_type_id",
    }
)


@dataclass
class StoredCluster:
    cluster: cluster_pb2.Cluster
    password: str
    hosts: list[cluster_pb2.Host] = field(default_factory=list)


@dataclass
class RedisState(CloudState):
    # network id -> zone -> subnet id
    networks: dict[str, dict[str, str]] = field(default_factory=dict)
    clusters: dict[str, StoredCluster] = field(default_factory=dict)
    # every UpdateClusterRequest, to see what the provider sent
    updates: list[cluster_service_pb2.UpdateClusterRequest] = field(default_factory=list)

    def by_name(self, folder_id: str, name: str) -> StoredCluster | None:
        return next(
            (
                c
                for c in self.clusters.values()
                if c.cluster.folder_id == folder_id and c.cluster.name == name
            ),
            None,
        )


def _config(
    version: str, policy: redis_pb2.RedisConfig.MaxmemoryPolicy.ValueType, resources: cluster_pb2.Resources
) -> cluster_pb2.ClusterConfig:
    asked = redis_pb2.RedisConfig(maxmemory_policy=policy)
    effective = redis_pb2.RedisConfig(
        maxmemory_policy=policy or redis_pb2.RedisConfig.MaxmemoryPolicy.VOLATILE_LRU
    )
    return cluster_pb2.ClusterConfig(
        version=version,
        redis=redis_pb2.RedisConfigSet(user_config=asked, effective_config=effective),
        resources=resources,
    )


class ClusterService(Servicer, cluster_service_pb2_grpc.ClusterServiceServicer):
    service = "ClusterService"
    state: RedisState

    def _stored(self, cluster_id: str, context: grpc.ServicerContext) -> StoredCluster:
        stored = self.state.clusters.get(cluster_id)
        if stored is None:
            abort(context, grpc.StatusCode.NOT_FOUND, f"Cluster {cluster_id} not found")
        return stored

    def _check_config(self, spec: Any, context: grpc.ServicerContext) -> None:
        invalid = grpc.StatusCode.INVALID_ARGUMENT
        if spec.version not in VERSIONS:
            abort(context, invalid, f"Unsupported version {spec.version!r}")
        if not spec.HasField("redis"):
            abort(context, invalid, "config_spec.redis: the password is required")
        if not PASSWORD.match(spec.redis.password):
            abort(
                context, invalid, "config_spec.redis.password: 8 to 128 letters, digits or @=+?*.,!&#$^<>_%-"
            )
        resources = spec.resources
        if not resources.resource_preset_id:
            abort(context, invalid, "config_spec.resources.resource_preset_id is required")
        if resources.disk_size <= 0 or resources.disk_size % GIB:
            abort(context, invalid, "config_spec.resources.disk_size must be a whole number of GiB")
        if resources.disk_type_id not in DISK_TYPES:
            abort(context, invalid, f"Unknown disk type {resources.disk_type_id!r}")

    def _check_create(self, request: Any, context: grpc.ServicerContext) -> None:
        self._check_config(request.config_spec, context)
        if not request.host_specs:
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, "host_specs: at least one host is required")
        subnets = self.state.networks.get(request.network_id, {})
        for host in request.host_specs:
            if subnets and subnets.get(host.zone_id) != host.subnet_id:
                abort(
                    context,
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"Subnet {host.subnet_id} is not in zone {host.zone_id} of the network",
                )
        if self.state.by_name(request.folder_id, request.name):
            abort(context, grpc.StatusCode.ALREADY_EXISTS, f"Cluster with name {request.name} already exists")

    def Create(self, request: Any, context: grpc.ServicerContext) -> Any:
        def start() -> Any:
            self._check_create(request, context)
            cluster_id = self.state.new_id("c9q")

            def finish() -> tuple[Any, Any]:
                if request.network_id not in self.state.networks:
                    return None, failure(grpc.StatusCode.NOT_FOUND, f"Network {request.network_id} not found")
                spec = request.config_spec
                cluster = cluster_pb2.Cluster(
                    id=cluster_id,
                    folder_id=request.folder_id,
                    created_at=now(),
                    name=request.name,
                    description=request.description,
                    labels=dict(request.labels),
                    environment=request.environment,
                    config=_config(spec.version, spec.redis.maxmemory_policy, spec.resources),
                    network_id=request.network_id,
                    health=cluster_pb2.Cluster.Health.ALIVE,
                    status=cluster_pb2.Cluster.Status.RUNNING,
                    tls_enabled=request.tls_enabled.value,
                    deletion_protection=request.deletion_protection,
                )
                hosts = [
                    cluster_pb2.Host(
                        name=f"rc1{host.zone_id[-1]}-{cluster_id[-8:]}{index}.mdb.yandexcloud.net",
                        cluster_id=cluster_id,
                        zone_id=host.zone_id,
                        subnet_id=host.subnet_id,
                        resources=spec.resources,
                        role=cluster_pb2.Host.Role.MASTER if index == 0 else cluster_pb2.Host.Role.REPLICA,
                        health=cluster_pb2.Host.Health.ALIVE,
                    )
                    for index, host in enumerate(request.host_specs)
                ]
                self.state.clusters[cluster_id] = StoredCluster(cluster, spec.redis.password, hosts)
                return cluster, None

            return self.operation(
                "Create Redis cluster",
                cluster_service_pb2.CreateClusterMetadata(cluster_id=cluster_id),
                finish,
            )

        return self.mutate("Create", context, start)

    def Get(self, request: Any, context: grpc.ServicerContext) -> cluster_pb2.Cluster:
        self.enter("Get", context)
        with self.state.lock:
            result = cluster_pb2.Cluster()
            result.CopyFrom(self._stored(request.cluster_id, context).cluster)
            return result

    def List(self, request: Any, context: grpc.ServicerContext) -> Any:
        """A folder's clusters; the filter ``name = "NAME"`` alone is understood, as the API documents it."""
        self.enter("List", context)
        wanted = None
        if request.filter:
            match = re.fullmatch(r'\s*name\s*=\s*"([^"]*)"\s*', request.filter)
            if match is None:
                abort(context, grpc.StatusCode.INVALID_ARGUMENT, f"Unsupported filter {request.filter}")
            wanted = match.group(1)
        with self.state.lock:
            clusters = [
                c.cluster
                for c in sorted(self.state.clusters.values(), key=lambda c: c.cluster.id)
                if c.cluster.folder_id == request.folder_id and wanted in (None, c.cluster.name)
            ]
        return cluster_service_pb2.ListClustersResponse(clusters=clusters)

    def ListHosts(self, request: Any, context: grpc.ServicerContext) -> Any:
        self.enter("ListHosts", context)
        with self.state.lock:
            stored = self._stored(request.cluster_id, context)
            return cluster_service_pb2.ListClusterHostsResponse(hosts=stored.hosts)

    def _check_update(self, stored: StoredCluster, request: Any, context: grpc.ServicerContext) -> None:
        paths = set(request.update_mask.paths)
        unknown = paths - UPDATABLE
        if not paths or unknown:
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, f"Cannot update {sorted(unknown) or 'nothing'}")
        spec = request.config_spec
        if "config_spec.redis.password" in paths and not PASSWORD.match(spec.redis.password):
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, "config_spec.redis.password: not allowed")
        resources = stored.cluster.config.resources
        if "config_spec.resources.disk_size" in paths and spec.resources.disk_size < resources.disk_size:
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, "A disk cannot shrink")

    @staticmethod
    def _apply_update(stored: StoredCluster, request: Any) -> cluster_pb2.Cluster:
        paths = set(request.update_mask.paths)
        spec = request.config_spec
        cluster = stored.cluster
        for path in ("name", "description", "deletion_protection"):
            if path in paths:
                setattr(cluster, path, getattr(request, path))
        if "labels" in paths:
            cluster.labels.clear()
            cluster.labels.update(dict(request.labels))
        if "config_spec.redis.password" in paths:
            stored.password = spec.redis.password
        if "config_spec.redis.maxmemory_policy" in paths:
            cluster.config.redis.user_config.maxmemory_policy = spec.redis.maxmemory_policy
            cluster.config.redis.effective_config.maxmemory_policy = spec.redis.maxmemory_policy
        for field_ in ("resource_preset_id", "disk_size", "disk_type_id"):
            if f"config_spec.resources.{field_}" in paths:
                setattr(cluster.config.resources, field_, getattr(spec.resources, field_))
        return cluster

    def Update(self, request: Any, context: grpc.ServicerContext) -> Any:
        def start() -> Any:
            stored = self._stored(request.cluster_id, context)
            self.state.updates.append(request)
            self._check_update(stored, request, context)
            return self.operation(
                "Update Redis cluster",
                cluster_service_pb2.UpdateClusterMetadata(cluster_id=request.cluster_id),
                lambda: (self._apply_update(stored, request), None),
            )

        return self.mutate("Update", context, start)

    def Delete(self, request: Any, context: grpc.ServicerContext) -> Any:
        def start() -> Any:
            stored = self._stored(request.cluster_id, context)
            if stored.cluster.deletion_protection:
                abort(context, grpc.StatusCode.FAILED_PRECONDITION, "Cluster is protected from deletion")

            def finish() -> tuple[Any, Any]:
                self.state.clusters.pop(request.cluster_id, None)
                return None, None

            return self.operation(
                "Delete Redis cluster",
                cluster_service_pb2.DeleteClusterMetadata(cluster_id=request.cluster_id),
                finish,
            )

        return self.mutate("Delete", context, start)


FakeRedis = Served[RedisState]


@contextmanager
def serving_redis(directory: Path, networks: dict[str, dict[str, str]]) -> Iterator[FakeRedis]:
    state = RedisState(networks={k: dict(v) for k, v in networks.items()})

    servicers: list[Service] = [
        (cluster_service_pb2_grpc.add_ClusterServiceServicer_to_server, ClusterService(state)),  # type: ignore[abstract]
    ]
    with serving_cloud(directory, state, ["managed-redis"], servicers) as served:
        yield served
