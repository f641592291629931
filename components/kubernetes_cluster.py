"""KubernetesCluster: Yandex Managed Kubernetes and the provider every Kubernetes resource uses.

Kubernetes Secrets are encrypted with a KMS key; the cluster's and the nodes'
service accounts hold only the roles they need; one autoscaled node group per
zone, since autoscaling groups are single-zone in Yandex Cloud.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_yandex as yandex

from components.kms import key_user, kms_key, member
from components.kube import Component
from components.network import Network
from infra.conventions import Naming
from infra.render.kubeconfig import render_kubeconfig
from infra.settings.cluster import ClusterProfile, NodeGroupProfile

KMS_ENCRYPTER_DECRYPTER = "kms.keys.encrypterDecrypter"


def cluster_service_account_roles(cluster: ClusterProfile, nodes: NodeGroupProfile) -> list[str]:
    """Folder roles of the cluster's service account: the least that runs the cluster.

    `k8s.clusters.agent` manages nodes, disks and internal load balancers;
    public addresses (master, nodes) need `vpc.publicAdmin`, and a public
    load balancer for the ingress needs `load-balancer.admin`.
    """
    roles = ["k8s.clusters.agent"]
    if cluster.public_api or nodes.public_ip or cluster.public_ingress:
        roles.append("vpc.publicAdmin")
    if cluster.public_ingress:
        roles.append("load-balancer.admin")
    return roles


@dataclass(frozen=True)
class KubernetesClusterArgs:
    naming: Naming
    folder_id: str
    network: Network
    cluster: ClusterProfile
    nodes: NodeGroupProfile
    # Protect the cluster and its KMS key: losing either loses the data on it.
    protect: bool = False


class KubernetesCluster(Component):
    cluster_id: pulumi.Output[str]
    node_service_account_id: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    provider: k8s.Provider

    def __init__(
        self, name: str, args: KubernetesClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("samokoder:cluster:KubernetesCluster", name, None, opts)
        self._name = name
        self._args = args
        naming, folder_id = args.naming, args.folder_id

        key = kms_key(
            f"{name}-secrets",
            naming,
            folder_id=folder_id,
            key_name="k8s-secrets",
            component="cluster",
            description="Encrypts Kubernetes Secrets at rest",
            opts=self.opts(protect=args.protect),
        )
        cluster_sa = self._service_account("cluster", "Runs the Managed Kubernetes cluster")
        node_sa = self._service_account("nodes", "Identity of the cluster's nodes (image pulls)")
        grants: list[pulumi.Resource] = [
            yandex.ResourcemanagerFolderIamMember(
                f"{name}-cluster-{role.replace('.', '-')}",
                folder_id=folder_id,
                role=role,
                member=member(cluster_sa.id),
                opts=self.opts(),
            )
            for role in cluster_service_account_roles(args.cluster, args.nodes)
        ]
        grants.append(key_user(f"{name}-cluster-kms", key, KMS_ENCRYPTER_DECRYPTER, cluster_sa, self.opts()))
        cluster = self._cluster(cluster_sa, node_sa, key, grants)
        node_groups = [
            self._node_group(cluster, zone, subnet_id) for zone, subnet_id in args.network.subnet_ids.items()
        ]

        self.cluster_id = cluster.id
        self.node_service_account_id = node_sa.id
        master = cluster.master
        endpoint = master.external_v4_endpoint if args.cluster.public_api else master.internal_v4_endpoint
        self.kubeconfig = pulumi.Output.all(cluster.name, endpoint, master.cluster_ca_certificate).apply(
            lambda values: render_kubeconfig(values[0], values[1], values[2])
        )
        # Every Kubernetes object and Helm release goes through this provider: none may start
        # before there are nodes to run its pods (an atomic release would time out waiting and roll back).
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            enable_server_side_apply=True,
            opts=self.opts(*node_groups),
        )
        self.outputs("cluster_id", "node_service_account_id", "kubeconfig")

    def _service_account(self, role: str, description: str) -> yandex.IamServiceAccount:
        return yandex.IamServiceAccount(
            f"{self._name}-{role}",
            name=self._args.naming.cloud(f"k8s-{role}"),
            folder_id=self._args.folder_id,
            description=description,
            opts=self.opts(),
        )

    def _cluster(
        self,
        cluster_sa: yandex.IamServiceAccount,
        node_sa: yandex.IamServiceAccount,
        key: yandex.KmsSymmetricKey,
        grants: list[pulumi.Resource],
    ) -> yandex.KubernetesCluster:
        args, profile = self._args, self._args.cluster
        locations = [
            yandex.KubernetesClusterMasterRegionalLocationArgs(zone=zone, subnet_id=subnet_id)
            for zone, subnet_id in args.network.subnet_ids.items()
        ]
        first_zone, first_subnet = next(iter(args.network.subnet_ids.items()))
        regional = profile.regional_master
        window = profile.maintenance
        return yandex.KubernetesCluster(
            self._name,
            name=args.naming.cloud("k8s"),
            folder_id=args.folder_id,
            network_id=args.network.network_id,
            service_account_id=cluster_sa.id,
            node_service_account_id=node_sa.id,
            kms_provider=yandex.KubernetesClusterKmsProviderArgs(key_id=key.id),
            network_policy_provider="CALICO",
            release_channel=profile.release_channel,
            cluster_ipv4_range=str(profile.pod_cidr),
            service_ipv4_range=str(profile.service_cidr),
            node_ipv4_cidr_mask_size=profile.node_cidr_mask_size,
            labels=args.naming.cloud_labels("cluster"),
            master=yandex.KubernetesClusterMasterArgs(
                version=profile.version,
                public_ip=profile.public_api,
                security_group_ids=[args.network.master_security_group_id],
                maintenance_policy=yandex.KubernetesClusterMasterMaintenancePolicyArgs(
                    auto_upgrade=True,
                    maintenance_windows=[
                        yandex.KubernetesClusterMasterMaintenancePolicyMaintenanceWindowArgs(
                            day=window.day,
                            start_time=window.start_time,
                            duration=f"{window.duration_hours}h",
                        )
                    ],
                ),
                regional=yandex.KubernetesClusterMasterRegionalArgs(region="ru-central1", locations=locations)
                if regional
                else None,
                zonal=None
                if regional
                else yandex.KubernetesClusterMasterZonalArgs(zone=first_zone, subnet_id=first_subnet),
            ),
            # The cluster's service account must hold its roles before the
            # cluster is created, or creation fails on permissions.
            opts=self.opts(*grants, protect=args.protect),
        )

    def _node_group(
        self, cluster: yandex.KubernetesCluster, zone: str, subnet_id: pulumi.Input[str]
    ) -> yandex.KubernetesNodeGroup:
        args, nodes = self._args, self._args.nodes
        return yandex.KubernetesNodeGroup(
            f"{self._name}-nodes-{zone}",
            name=args.naming.cloud(f"nodes-{zone.rsplit('-', 1)[-1]}"),
            cluster_id=cluster.id,
            version=args.cluster.version,
            labels=args.naming.cloud_labels("nodes"),
            instance_template=yandex.KubernetesNodeGroupInstanceTemplateArgs(
                platform_id=nodes.platform_id,
                resources=yandex.KubernetesNodeGroupInstanceTemplateResourcesArgs(
                    cores=nodes.cores, memory=nodes.memory_gb, core_fraction=nodes.core_fraction
                ),
                boot_disk=yandex.KubernetesNodeGroupInstanceTemplateBootDiskArgs(
                    type=nodes.disk_type, size=nodes.disk_gb
                ),
                network_interfaces=[
                    yandex.KubernetesNodeGroupInstanceTemplateNetworkInterfaceArgs(
                        subnet_ids=[subnet_id],
                        nat=nodes.public_ip,
                        security_group_ids=[args.network.node_security_group_id],
                    )
                ],
                scheduling_policy=yandex.KubernetesNodeGroupInstanceTemplateSchedulingPolicyArgs(
                    preemptible=nodes.preemptible
                ),
                container_runtime=yandex.KubernetesNodeGroupInstanceTemplateContainerRuntimeArgs(
                    type="containerd"
                ),
            ),
            scale_policy=yandex.KubernetesNodeGroupScalePolicyArgs(
                auto_scale=yandex.KubernetesNodeGroupScalePolicyAutoScaleArgs(
                    min=nodes.min_per_zone,
                    max=nodes.max_per_zone,
                    initial=max(nodes.min_per_zone, 1),
                )
            ),
            allocation_policy=yandex.KubernetesNodeGroupAllocationPolicyArgs(
                locations=[yandex.KubernetesNodeGroupAllocationPolicyLocationArgs(zone=zone)]
            ),
            # Surge one node during upgrades; never drop below the current count.
            deploy_policy=yandex.KubernetesNodeGroupDeployPolicyArgs(max_expansion=1, max_unavailable=0),
            maintenance_policy=yandex.KubernetesNodeGroupMaintenancePolicyArgs(
                auto_upgrade=True, auto_repair=True
            ),
            opts=self.opts(),
        )
