"""What the validators share: the argument protocols, type tokens and walkers of resource inputs."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol

Report = Callable[..., None]


class Options(Protocol):
    protect: bool


class ResourceArgs(Protocol):
    resource_type: str
    props: Mapping[str, Any]
    urn: str
    name: str
    opts: Options

    def get_config(self) -> Mapping[str, Any]: ...


class StackArgs(Protocol):
    resources: list[Any]

    def get_config(self) -> Mapping[str, Any]: ...


DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
CNPG_CLUSTER = "kubernetes:postgresql.cnpg.io/v1:Cluster"
SCHEDULED_BACKUP = "kubernetes:postgresql.cnpg.io/v1:ScheduledBackup"
OBJECT_STORE = "kubernetes:barmancloud.cnpg.io/v1:ObjectStore"
DYNAMIC = "pulumi-python:dynamic:Resource"
BUCKET = "yandex:index/storageBucket:StorageBucket"
KMS_KEY = "yandex:index/kmsSymmetricKey:KmsSymmetricKey"
REGISTRY_BINDING = "yandex:index/containerRegistryIamBinding:ContainerRegistryIamBinding"
REPOSITORY = "yandex:index/containerRepository:ContainerRepository"
K8S_CLUSTER = "yandex:index/kubernetesCluster:KubernetesCluster"
NODE_GROUP = "yandex:index/kubernetesNodeGroup:KubernetesNodeGroup"
SECURITY_GROUP = "yandex:index/vpcSecurityGroup:VpcSecurityGroup"
SECURITY_GROUP_RULE = "yandex:index/vpcSecurityGroupRule:VpcSecurityGroupRule"
# The network's default group: its rules apply to every interface not given another group.
DEFAULT_SECURITY_GROUP = "yandex:index/vpcDefaultSecurityGroup:VpcDefaultSecurityGroup"
# The site's reserved address and its public zone: a new address breaks every cached answer,
# and a deleted public zone can be claimed by another cloud (components/dns.py).
SITE_ADDRESS = "yandex:index/vpcAddress:VpcAddress"
DNS_ZONE = "yandex:index/dnsZone:DnsZone"

REDACTED = "[secret]"


def _is_list(node: Any) -> bool:
    # CrossGuard hands lists over as read-only proxies (Sequences), not lists.
    return isinstance(node, Sequence) and not isinstance(node, str | bytes)


def dig(node: Any, *keys: str) -> Any:
    """The value under `keys`, read as `(node.get(a) or {}).get(b)` reads it.

    A missing or empty step reads as empty; a step of another shape than a mapping
    raises, which `samokoder-infra check` reports as inputs no policy can read.
    """
    for key in keys:
        node = (node or {}).get(key)
    return node


def _kind(resource_type: str) -> str:
    """`kubernetes:apps/v1:StatefulSet` -> `StatefulSet`; '' for anything not Kubernetes.

    A patch reaches the cluster as much as the object it patches: pulumi-kubernetes
    names its patch types after the kind (`kubernetes:apps/v1:DeploymentPatch`), and
    they are judged as that kind.
    """
    if not resource_type.startswith("kubernetes:") or _helm(resource_type):
        return ""
    return resource_type.rsplit(":", 1)[-1].removesuffix("Patch")


def _patch(resource_type: str) -> bool:
    """A server-side apply patch: it changes what it names and nothing else."""
    return resource_type.startswith("kubernetes:") and resource_type.endswith("Patch")


def _helm(resource_type: str) -> bool:
    """A chart installed through Helm (`helm.sh/v3:Release`, and v4's `Chart`)."""
    return resource_type.startswith("kubernetes:helm.sh/")


def _mappings(node: Any, path: str = "values") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every mapping in a tree of values, with its path."""
    if isinstance(node, Mapping):
        yield path, node
        for key, value in node.items():
            yield from _mappings(value, f"{path}.{key}")
    elif _is_list(node):
        for i, value in enumerate(node):
            yield from _mappings(value, f"{path}[{i}]")
