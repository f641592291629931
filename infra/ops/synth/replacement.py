"""Which input changes replace a resource rather than update it: the program's own knowledge.

Only the provider decides, at `pulumi preview`; offline, this table stands in
for it over the resource types this program creates, and the diff says so.
Sources, read for the versions pinned here:

- Kubernetes: pulumi-kubernetes' `forceNewProperties` (provider/pkg/provider/diff.go):
  `metadata.name` and `metadata.namespace` of every object, plus per kind
  (ConfigMap `data`, Secret `data`/`type`, a Deployment's selector, a Job's
  template, ...); the Helm release's `name` and `namespace`. A change of
  `kind` or `apiVersion` changes the type token and so the URN: the diff
  pairs the old and the new resource and reports a replacement.
- Yandex Cloud: the `ForceNew` attributes of terraform-provider-yandex v0.70
  (the provider pulumi-yandex 0.13 bridges), for the resources used here.
- random: every input of RandomPassword replaces it (terraform-provider-random).
- Lockbox and Managed Redis: the program's own dynamic providers
  (`REPLACED_BY` in infra/providers/lockbox/provider.py and
  infra/providers/redis/provider.py).

Paths are dotted input paths as `resources.json` spells them (camelCase for
the Yandex SDK); `*` stands for any list index, `**` for any input at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

KUBERNETES_PREFIX = "kubernetes:"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
# Every dynamic resource has this one type token; a Lockbox secret is told by
# its inputs. Kept in step with REPLACED_BY in the provider (a test compares
# them), not imported: that module loads the Lockbox SDK, the diff reads JSON.
DYNAMIC = "pulumi-python:dynamic:Resource"
LOCKBOX_INPUTS = frozenset({"payload", "kms_key_id"})
LOCKBOX_REPLACED_BY = ("folder_id", "kms_key_id")
# Managed Redis is a dynamic resource with a type of its own (infra/providers/redis/provider.py).
MANAGED_REDIS = "pulumi-python:dynamic/redis:ManagedRedisCluster"
MANAGED_REDIS_REPLACED_BY = ("folder_id", "network_id", "environment", "tls_enabled", "hosts")

_SELECTOR = ("spec.selector",)
KUBERNETES_BY_KIND: Mapping[str, tuple[str, ...]] = {
    "apps/v1:Deployment": _SELECTOR,
    "apps/v1:StatefulSet": (
        *_SELECTOR,
        "spec.podManagementPolicy",
        "spec.revisionHistoryLimit",
        "spec.serviceName",
        "spec.volumeClaimTemplates",
    ),
    "batch/v1:Job": (*_SELECTOR, "spec.completions", "spec.parallelism", "spec.template"),
    "core/v1:ConfigMap": ("data", "binaryData"),
    "core/v1:Secret": ("data", "stringData", "type"),
    "core/v1:Service": ("spec.clusterIP",),
    "core/v1:PersistentVolumeClaim": ("spec",),
    "rbac.authorization.k8s.io/v1:RoleBinding": ("roleRef",),
    "rbac.authorization.k8s.io/v1:ClusterRoleBinding": ("roleRef",),
    "storage.k8s.io/v1:StorageClass": ("parameters", "provisioner"),
}
KUBERNETES_OBJECT = ("metadata.name", "metadata.namespace")

_IAM_MEMBER = ("role", "member")
BY_TYPE: Mapping[str, tuple[str, ...]] = {
    HELM_RELEASE: ("name", "namespace"),
    "yandex:index/vpcNetwork:VpcNetwork": ("folderId",),
    "yandex:index/vpcSubnet:VpcSubnet": ("folderId", "networkId", "v4CidrBlocks", "zone"),
    "yandex:index/vpcSecurityGroup:VpcSecurityGroup": ("folderId", "networkId"),
    "yandex:index/kubernetesCluster:KubernetesCluster": (
        "folderId",
        "networkId",
        "clusterIpv4Range",
        "serviceIpv4Range",
        "nodeIpv4CidrMaskSize",
        "releaseChannel",
        "networkPolicyProvider",
        "kmsProvider",
        "master.publicIp",
        "master.zonal",
        "master.regional",
    ),
    "yandex:index/kubernetesNodeGroup:KubernetesNodeGroup": ("clusterId", "allocationPolicy"),
    "yandex:index/storageBucket:StorageBucket": ("bucket",),
    "yandex:index/kmsSymmetricKey:KmsSymmetricKey": ("folderId",),
    "yandex:index/iamServiceAccount:IamServiceAccount": ("folderId",),
    "yandex:index/iamServiceAccountKey:IamServiceAccountKey": (
        "serviceAccountId",
        "description",
        "keyAlgorithm",
    ),
    "yandex:index/iamServiceAccountStaticAccessKey:IamServiceAccountStaticAccessKey": (
        "serviceAccountId",
        "description",
    ),
    "yandex:index/containerRegistry:ContainerRegistry": ("folderId",),
    # No update at all: a repository is its name.
    "yandex:index/containerRepository:ContainerRepository": ("name",),
    "yandex:index/mdbRedisCluster:MdbRedisCluster": ("folderId", "networkId", "environment", "tlsEnabled"),
    "yandex:index/resourcemanagerFolderIamMember:ResourcemanagerFolderIamMember": ("folderId", *_IAM_MEMBER),
    "yandex:index/containerRegistryIamBinding:ContainerRegistryIamBinding": ("registryId", "role"),
    "yandex:index/kmsSymmetricKeyIamBinding:KmsSymmetricKeyIamBinding": ("symmetricKeyId", "role"),
    "random:index/randomPassword:RandomPassword": ("**",),
    MANAGED_REDIS: MANAGED_REDIS_REPLACED_BY,
}


def replacing_paths(type_: str, inputs: Mapping[str, Any]) -> tuple[str, ...]:
    """The input paths whose change replaces a resource of type `type_` (empty: none known)."""
    if type_ == DYNAMIC:
        return LOCKBOX_REPLACED_BY if set(inputs) >= LOCKBOX_INPUTS else ()
    if type_ in BY_TYPE:
        return BY_TYPE[type_]
    if type_.startswith(KUBERNETES_PREFIX) and not type_.startswith("kubernetes:helm.sh/"):
        group_version_kind = type_.removeprefix(KUBERNETES_PREFIX)
        return KUBERNETES_OBJECT + KUBERNETES_BY_KIND.get(group_version_kind, ())
    return ()


def _values_at(value: Any, parts: list[str]) -> list[Any]:
    """What `value` holds at `parts` ('*' over every list item); missing parts read as None."""
    if not parts:
        return [value]
    head, rest = parts[0], parts[1:]
    if head == "*":
        return [v for item in value for v in _values_at(item, rest)] if isinstance(value, list) else [None]
    return _values_at(value.get(head) if isinstance(value, dict) else None, rest)


def replacing_changes(type_: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """The known replacing paths of `type_` whose value differs between the inputs `old` and `new`."""
    found = []
    for path in replacing_paths(type_, new):
        if path == "**":
            if old != new:
                found.append("(any input)")
            continue
        parts = path.split(".")
        if _values_at(old, parts) != _values_at(new, parts):
            found.append(path)
    return found
