"""Security group rules of the cluster's master and nodes, as plain data.

Only the ports each side needs (after Yandex Managed Kubernetes' guide to
security groups); the Network component turns these into VpcSecurityGroup
rules, and tests read them without Pulumi.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

Protocol = Literal["TCP", "UDP", "ICMP", "ANY"]
# A rule's peer is CIDR blocks or the group itself. Master and nodes see each
# other by the zone subnets they share: two groups that named each other
# would have to be created before one another.
Peer = Literal["cidrs", "self"]

# Yandex Network Load Balancer health checkers; node ports must answer them
# (Managed Kubernetes' guide to security groups, yandex-cloud/docs
# en/managed-kubernetes/operations/connect/security-groups.md).
LOAD_BALANCER_HEALTH_CHECKS = ("198.18.235.0/24", "198.18.248.0/24")
PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
ANYWHERE = ("0.0.0.0/0",)
ALL_PORTS = (0, 65535)


@dataclass(frozen=True)
class Rule:
    direction: Literal["ingress", "egress"]
    description: str
    protocol: Protocol
    peer: Peer = "cidrs"
    cidrs: tuple[str, ...] = field(default=())
    port: int | None = None
    port_range: tuple[int, int] | None = None


@dataclass(frozen=True)
class ClusterAddresses:
    subnet_cidrs: Sequence[str]
    api_allowed_cidrs: Sequence[str]
    pod_cidr: str
    service_cidr: str
    public_ingress: bool
    # The NodePorts the public load balancer forwards clients to (the ingress controller's).
    public_node_ports: Sequence[int] = ()


# Both master and nodes answer the load balancer's health checks.
HEALTH_CHECKS = Rule(
    "ingress", "Load balancer health checks", "TCP", cidrs=LOAD_BALANCER_HEALTH_CHECKS, port_range=ALL_PORTS
)


def master_rules(addresses: ClusterAddresses) -> list[Rule]:
    in_cluster = (addresses.pod_cidr, addresses.service_cidr)
    nodes = tuple(addresses.subnet_cidrs)
    rules = [
        Rule("ingress", "Kubernetes API from nodes", "TCP", cidrs=nodes, port=443),
        Rule("ingress", "Kubernetes API (kubelet) from nodes", "TCP", cidrs=nodes, port=6443),
        Rule("ingress", "Kubernetes API from pods", "TCP", cidrs=(addresses.pod_cidr,), port=443),
        HEALTH_CHECKS,
        # The master reaches kubelets, webhooks and metrics-server in pods.
        Rule("egress", "Master to nodes", "ANY", cidrs=nodes, port_range=ALL_PORTS),
        Rule("egress", "Master to pods and services", "ANY", cidrs=in_cluster, port_range=ALL_PORTS),
    ]
    if addresses.api_allowed_cidrs:
        allowed = tuple(addresses.api_allowed_cidrs)
        rules += [
            Rule("ingress", "Kubernetes API from operators and CI", "TCP", cidrs=allowed, port=443),
            Rule(
                "ingress", "Kubernetes API (kubectl) from operators and CI", "TCP", cidrs=allowed, port=6443
            ),
        ]
    return rules


def node_rules(addresses: ClusterAddresses) -> list[Rule]:
    in_cluster = (addresses.pod_cidr, addresses.service_cidr)
    subnets = tuple(addresses.subnet_cidrs)
    rules = [
        Rule("ingress", "Node to node", "ANY", peer="self", port_range=ALL_PORTS),
        Rule("ingress", "Master to nodes", "ANY", cidrs=subnets, port_range=ALL_PORTS),
        Rule("ingress", "Pod and service traffic", "ANY", cidrs=in_cluster, port_range=ALL_PORTS),
        HEALTH_CHECKS,
        Rule("ingress", "ICMP from private networks", "ICMP", cidrs=PRIVATE_RANGES),
        # Image pulls, Yandex Cloud APIs, LLM providers.
        Rule("egress", "Outbound", "ANY", cidrs=ANYWHERE, port_range=ALL_PORTS),
    ]
    if addresses.public_ingress:
        # The network load balancer keeps the client's address, so the ports it forwards
        # to must admit anyone; only these, and the nodes have no public address of
        # their own. Every other NodePort answers the health checks and the cluster only.
        for port in sorted(addresses.public_node_ports):
            description = f"Ingress NodePort {port} from clients via the load balancer"
            rules.append(Rule("ingress", description, "TCP", cidrs=ANYWHERE, port=port))
    return rules
