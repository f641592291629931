"""Network: the VPC, one subnet per zone, their NAT egress, and the security groups of the cluster.

The NAT gateway and its route table are dynamic resources (``infra/providers/egress/``):
pulumi-yandex 0.13 has no gateway, and its route tables cannot route to one. The
master's and the nodes' security groups admit only the ports each side needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import pulumi
import pulumi_yandex as yandex

from components.kube import Component
from infra.conventions import INGRESS_NODE_PORTS, Naming
from infra.providers.egress.provider import EgressGateway, GatewayRouteTable
from infra.providers.yandex.connection import Connection
from infra.render.addressing import zone_subnets
from infra.render.security_rules import ClusterAddresses, Rule, master_rules, node_rules
from infra.settings.cluster import ClusterProfile, NetworkProfile


@dataclass(frozen=True)
class NetworkArgs:
    naming: Naming
    folder_id: str
    network: NetworkProfile
    # The cluster's address ranges and exposure shape the security groups.
    cluster: ClusterProfile
    # How the NAT gateway's provider reaches the VPC API (the stack's Yandex Cloud API auth).
    connection: Connection


class Network(Component):
    network_id: pulumi.Output[str]
    nat_gateway_id: pulumi.Output[str]
    route_table_id: pulumi.Output[str]
    subnet_ids: dict[str, pulumi.Output[str]]
    master_security_group_id: pulumi.Output[str]
    node_security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("samokoder:network:Network", name, None, opts)
        self._args = args
        labels = args.naming.cloud_labels("network")

        network = yandex.VpcNetwork(
            name,
            name=args.naming.cloud("network"),
            folder_id=args.folder_id,
            labels=labels,
            opts=self.opts(),
        )
        self.network_id = network.id
        # Private nodes reach the internet (images, Yandex Cloud APIs, LLM providers)
        # through a NAT gateway: the default route of every subnet.
        gateway = EgressGateway(
            f"{name}-egress",
            connection=args.connection,
            folder_id=args.folder_id,
            name=args.naming.cloud("egress"),
            description="NAT for the cluster's private nodes",
            labels=labels,
            opts=self.opts(),
        )
        routes = GatewayRouteTable(
            f"{name}-egress-routes",
            connection=args.connection,
            folder_id=args.folder_id,
            network_id=network.id,
            name=args.naming.cloud("egress-routes"),
            routes=[{"destination_prefix": "0.0.0.0/0", "gateway_id": gateway.id}],
            description="The subnets' default route: the NAT gateway",
            labels=labels,
            opts=self.opts(),
        )
        self.nat_gateway_id = gateway.id
        self.route_table_id = routes.id
        plan = zone_subnets(args.network.cidr, args.network.zones, args.network.subnet_prefix)
        self.subnet_ids = {
            zone: yandex.VpcSubnet(
                f"{name}-{zone}",
                name=args.naming.cloud(f"subnet-{zone}"),
                folder_id=args.folder_id,
                network_id=network.id,
                zone=zone,
                v4_cidr_blocks=[str(cidr)],
                route_table_id=routes.id,
                labels=labels,
                opts=self.opts(),
            ).id
            for zone, cidr in plan.items()
        }
        cluster = args.cluster
        addresses = ClusterAddresses(
            subnet_cidrs=[str(c) for c in plan.values()],
            api_allowed_cidrs=[str(c) for c in cluster.api_allowed_cidrs] if cluster.public_api else [],
            pod_cidr=str(cluster.pod_cidr),
            service_cidr=str(cluster.service_cidr),
            public_ingress=cluster.public_ingress,
            public_node_ports=list(INGRESS_NODE_PORTS.values()),
        )
        self.master_security_group_id = self._security_group(
            f"{name}-master", "k8s-master", master_rules(addresses), network.id
        ).id
        self.node_security_group_id = self._security_group(
            f"{name}-nodes", "k8s-nodes", node_rules(addresses), network.id
        ).id
        self.outputs(
            "network_id", "nat_gateway_id", "subnet_ids", "master_security_group_id", "node_security_group_id"
        )

    def _security_group(
        self, resource_name: str, component: str, rules: list[Rule], network_id: pulumi.Input[str]
    ) -> yandex.VpcSecurityGroup:
        return yandex.VpcSecurityGroup(
            resource_name,
            name=self._args.naming.cloud(component),
            folder_id=self._args.folder_id,
            network_id=network_id,
            labels=self._args.naming.cloud_labels(component),
            ingresses=[
                _rule_args(r, yandex.VpcSecurityGroupIngressArgs) for r in rules if r.direction == "ingress"
            ],
            egresses=[
                _rule_args(r, yandex.VpcSecurityGroupEgressArgs) for r in rules if r.direction == "egress"
            ],
            opts=self.opts(),
        )


RuleArgs = TypeVar("RuleArgs", yandex.VpcSecurityGroupIngressArgs, yandex.VpcSecurityGroupEgressArgs)


def _rule_args(rule: Rule, kind: type[RuleArgs]) -> RuleArgs:
    from_port, to_port = rule.port_range or (None, None)
    return kind(
        protocol=rule.protocol,
        description=rule.description,
        predefined_target="self_security_group" if rule.peer == "self" else None,
        v4_cidr_blocks=list(rule.cidrs) or None,
        port=rule.port,
        from_port=from_port if rule.port is None else None,
        to_port=to_port if rule.port is None else None,
    )
