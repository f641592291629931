"""The Managed Redis calls the provider makes, on the shared base (retried, operations waited for).

Requests go through ``yandex.cloud.mdb.redis.v1.ClusterService``. The config
travels in ``ConfigSpec.redis``, the API's config for every current version
(the SDK has no ``redis_config_7_2``; ``redis_config_7_0`` and older are the
per-version fields Terraform fills).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.wrappers_pb2 import BoolValue
from yandex.cloud.mdb.redis.v1.cluster_pb2 import Cluster, Resources
from yandex.cloud.mdb.redis.v1.cluster_service_pb2 import (
    ConfigSpec,
    CreateClusterMetadata,
    CreateClusterRequest,
    DeleteClusterMetadata,
    DeleteClusterRequest,
    GetClusterRequest,
    HostSpec,
    ListClusterHostsRequest,
    ListClustersRequest,
    UpdateClusterMetadata,
    UpdateClusterRequest,
)
from yandex.cloud.mdb.redis.v1.cluster_service_pb2_grpc import ClusterServiceStub
from yandex.cloud.mdb.redis.v1.config.redis_pb2 import RedisConfig

from infra.providers.redis.errors import CLUSTER, RedisError
from infra.providers.yandex.api import YandexApi
from infra.providers.yandex.connection import Connection
from infra.providers.yandex.converge import gone

GIB = 1024**3
# Read at each poll: a cluster takes minutes to create, tests a moment.
POLL_SECONDS = 5.0


@dataclass(frozen=True, order=True)
class Host:
    zone: str
    subnet_id: str


@dataclass(frozen=True)
class ClusterSpec:
    """What the program asks for (the provider's inputs, typed)."""

    folder_id: str
    name: str
    environment: str
    network_id: str
    version: str
    password: str
    maxmemory_policy: str
    resource_preset_id: str
    disk_size_gb: int
    disk_type_id: str
    hosts: tuple[Host, ...]
    tls_enabled: bool = True
    deletion_protection: bool = False
    description: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ClusterState:
    """What the API says a cluster is (never the password: the API does not return it)."""

    id: str
    folder_id: str
    name: str
    description: str
    labels: dict[str, str]
    environment: str
    network_id: str
    version: str
    maxmemory_policy: str
    resource_preset_id: str
    disk_size_gb: int
    disk_type_id: str
    tls_enabled: bool
    deletion_protection: bool
    status: str
    health: str
    created_at: str
    hosts: tuple[Host, ...] = ()
    host_names: tuple[str, ...] = ()


def _state(cluster: Cluster, hosts: Sequence[Any] = ()) -> ClusterState:
    config = cluster.config
    redis = config.redis
    # What was asked for; the effective value where nothing was (the API's default).
    policy = redis.user_config.maxmemory_policy or redis.effective_config.maxmemory_policy
    return ClusterState(
        id=cluster.id,
        folder_id=cluster.folder_id,
        name=cluster.name,
        description=cluster.description,
        labels=dict(cluster.labels),
        environment=Cluster.Environment.Name(cluster.environment),
        network_id=cluster.network_id,
        version=config.version,
        maxmemory_policy=RedisConfig.MaxmemoryPolicy.Name(policy),
        resource_preset_id=config.resources.resource_preset_id,
        disk_size_gb=config.resources.disk_size // GIB,
        disk_type_id=config.resources.disk_type_id,
        tls_enabled=cluster.tls_enabled,
        deletion_protection=cluster.deletion_protection,
        status=Cluster.Status.Name(cluster.status),
        health=Cluster.Health.Name(cluster.health),
        created_at=cluster.created_at.ToDatetime().isoformat() + "Z",
        hosts=tuple(sorted(Host(h.zone_id, h.subnet_id) for h in hosts)),
        host_names=tuple(sorted(h.name for h in hosts)),
    )


# Provider input -> the update mask's path for it.
UPDATE_PATHS: Mapping[str, str] = {
    "name": "name",
    "description": "description",
    "labels": "labels",
    "deletion_protection": "deletion_protection",
    "password": "config_spec.redis.password",  # pragma: allowlist secret (a field path)
    "maxmemory_policy": "config_spec.redis.maxmemory_policy",
    "resource_preset_id": "config_spec.resources.resource_preset_id",
    "disk_size_gb": "config_spec.resources.disk_size",
    "disk_type_id": "config_spec.resources.disk_type_id",
}


class RedisApi(YandexApi):
    subject = CLUSTER
    # Creating a cluster, or moving it to a bigger preset, takes minutes.
    operation_timeout_seconds = 3600

    def __init__(self, connection: Connection, cluster_name: str) -> None:
        super().__init__(connection, cluster_name)
        self._clusters = self.client(ClusterServiceStub)

    def poll_seconds(self) -> float:
        return POLL_SECONDS

    def create(self, spec: ClusterSpec) -> ClusterState:
        request = CreateClusterRequest(
            folder_id=spec.folder_id,
            name=spec.name,
            description=spec.description,
            labels=dict(spec.labels),
            environment=Cluster.Environment.Value(spec.environment),
            config_spec=ConfigSpec(
                version=spec.version,
                redis=RedisConfig(
                    password=spec.password,
                    maxmemory_policy=RedisConfig.MaxmemoryPolicy.Value(spec.maxmemory_policy),
                ),
                resources=Resources(
                    resource_preset_id=spec.resource_preset_id,
                    disk_size=spec.disk_size_gb * GIB,
                    disk_type_id=spec.disk_type_id,
                ),
            ),
            host_specs=[HostSpec(zone_id=h.zone, subnet_id=h.subnet_id) for h in spec.hosts],
            network_id=spec.network_id,
            tls_enabled=BoolValue(value=spec.tls_enabled),
            deletion_protection=spec.deletion_protection,
        )
        created = self.run("create", self._clusters.Create, request, Cluster, CreateClusterMetadata)
        return self.get(created.response.id)

    def find(self, folder_id: str) -> ClusterState | None:
        """The folder's cluster of this name, if there is one."""
        token = ""
        while True:
            response = self.call(
                "find by name",
                self._clusters.List,
                ListClustersRequest(
                    folder_id=folder_id, page_size=100, page_token=token, filter=f'name = "{self._name}"'
                ),
            )
            for cluster in response.clusters:
                if cluster.name == self._name:
                    return self.get(cluster.id)
            token = response.next_page_token
            if not token:
                return None

    def get(self, cluster_id: str) -> ClusterState:
        cluster = self.call("read", self._clusters.Get, GetClusterRequest(cluster_id=cluster_id))
        hosts = self.call(
            "read hosts", self._clusters.ListHosts, ListClusterHostsRequest(cluster_id=cluster_id)
        )
        return _state(cluster, hosts.hosts)

    def update(self, cluster_id: str, changes: Mapping[str, Any]) -> ClusterState:
        """Change the given inputs (keys of UPDATE_PATHS) in one request."""
        redis = RedisConfig()
        resources = Resources()
        fields: dict[str, Any] = {}
        for key, value in changes.items():
            if key == "password":
                redis.password = value
            elif key == "maxmemory_policy":
                redis.maxmemory_policy = RedisConfig.MaxmemoryPolicy.Value(value)
            elif key == "resource_preset_id":
                resources.resource_preset_id = value
            elif key == "disk_size_gb":
                resources.disk_size = int(value) * GIB
            elif key == "disk_type_id":
                resources.disk_type_id = value
            else:
                fields[key] = value
        request = UpdateClusterRequest(
            cluster_id=cluster_id,
            update_mask=FieldMask(paths=sorted(UPDATE_PATHS[key] for key in changes)),
            config_spec=ConfigSpec(redis=redis, resources=resources),
            **fields,
        )
        self.run("update", self._clusters.Update, request, Cluster, UpdateClusterMetadata)
        return self.get(cluster_id)

    def delete(self, cluster_id: str) -> None:
        """Delete the cluster; one already gone (``NOT_FOUND``) counts as deleted."""
        try:
            self._delete(cluster_id)
        except RedisError as error:
            if not gone(error):
                raise

    def _delete(self, cluster_id: str) -> None:
        self.run(
            "delete",
            self._clusters.Delete,
            DeleteClusterRequest(cluster_id=cluster_id),
            meta=DeleteClusterMetadata,
        )
