"""Who can reach the stack over the network: security groups by the share of the internet they open.

A range is judged by what it covers, not by how it is written: `0.0.0.0/1` and
`128.0.0.0/1` together are `0.0.0.0/0`. The ranges every rule of a group opens to
a port are merged, the addresses nobody on the internet sends from are taken out,
and what is left is compared with the public address space.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from infra.policy.validators.common import (
    DEFAULT_SECURITY_GROUP,
    K8S_CLUSTER,
    NODE_GROUP,
    SECURITY_GROUP,
    SECURITY_GROUP_RULE,
    Report,
    ResourceArgs,
    StackArgs,
    dig,
)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Special-purpose IPv4 blocks no internet client sends from: IANA's IPv4 Special-Purpose
# Address Registry (RFC 6890 and its updates), with multicast (224/4) and reserved (240/4).
NOT_PUBLIC_V4 = tuple(
    ipaddress.IPv4Network(block)
    for block in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
)
PUBLIC_V4 = 2**32 - sum(block.num_addresses for block in NOT_PUBLIC_V4)

# IPv6's internet is its global unicast block (RFC 4291 section 2.4; IANA's IPv6 address space).
GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")

# Open "to the world" from a /8's worth of the public space up: no office or CI pool is that big.
WORLD_SHARE = 1 / 256


def _networks(blocks: Iterable[Any]) -> list[Network]:
    found: list[Network] = []
    for block in blocks:
        try:
            found.append(ipaddress.ip_network(str(block), strict=False))
        except ValueError:
            continue  # not a range: the provider refuses it before anything opens
    return found


def public_share(blocks: Iterable[Any]) -> float:
    """The largest share of an address family's public space that `blocks` open together."""
    networks = _networks(blocks)
    v4 = list(ipaddress.collapse_addresses(n for n in networks if isinstance(n, ipaddress.IPv4Network)))
    v6 = list(ipaddress.collapse_addresses(n for n in networks if isinstance(n, ipaddress.IPv6Network)))
    covered_v4 = sum(n.num_addresses - _overlap(n, NOT_PUBLIC_V4) for n in v4)
    covered_v6 = sum(_overlap(n, (GLOBAL_UNICAST,)) for n in v6)
    return max(covered_v4 / PUBLIC_V4, covered_v6 / GLOBAL_UNICAST.num_addresses)


def _overlap(network: Any, others: Iterable[Any]) -> int:
    # CIDR blocks either nest or are apart; `others` are apart from one another.
    total = 0
    for other in others:
        if other.subnet_of(network):
            total += other.num_addresses
        elif network.subnet_of(other):
            total += network.num_addresses
    return total


def world_open(blocks: Iterable[Any]) -> bool:
    return public_share(blocks) >= WORLD_SHARE


def ingress_rules(resource: Any) -> Iterator[Mapping[str, Any]]:
    """Every ingress rule a resource adds: a group's, the default group's, a lone rule resource."""
    if resource.resource_type in (SECURITY_GROUP, DEFAULT_SECURITY_GROUP):
        yield from (r for r in resource.props.get("ingresses") or [] if isinstance(r, Mapping))
    elif (
        resource.resource_type == SECURITY_GROUP_RULE
        and str(resource.props.get("direction", "")).lower() == "ingress"
    ):
        yield resource.props


def blocks(rule: Mapping[str, Any]) -> list[Any]:
    return [*(rule.get("v4CidrBlocks") or []), *(rule.get("v6CidrBlocks") or [])]


def _port(value: Any) -> int | None:
    # Numbers arrive as floats through the engine's protobuf Struct.
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return int(value)


def ports(rule: Mapping[str, Any]) -> tuple[int, int]:
    port = _port(rule.get("port"))
    if port is not None:
        return port, port
    low, high = _port(rule.get("fromPort")), _port(rule.get("toPort"))
    return (0 if low is None else low, 65535 if high is None else high)


def reaches(rule: Mapping[str, Any], port: int) -> bool:
    low, high = ports(rule)
    return rule.get("protocol") != "ICMP" and low <= port <= high


def opened_to(args: ResourceArgs, port: int) -> list[Any]:
    """The ranges every ingress rule of this resource opens to `port`, together."""
    return [block for rule in ingress_rules(args) if reaches(rule, port) for block in blocks(rule)]


# Ports of databases and caches that must never face the internet.
DATABASE_PORTS = (3306, 5432, 6379, 6380, 6432, 9200, 11211, 26379, 27017)
KUBERNETES_API_PORTS = (443, 6443)
NODE_PORT_RANGE = (30000, 32767)


def security_groups_closed(args: ResourceArgs, report: Report) -> None:
    """Nothing but the ingress faces the internet: no database port, every port, or other NodePort is open.

    Judged in every group, the network's default group and lone rule resources, by
    the share of the internet the ranges open together. The Kubernetes API's
    exposure is ``prod-api-private``'s and ``admin-ports-closed``'s.
    """
    public = {int(port) for port in args.get_config().get("publicNodePorts") or []}
    databases = [p for p in DATABASE_PORTS if world_open(opened_to(args, p))]
    if databases:
        report(
            f"{args.name}: opens database port(s) {', '.join(map(str, databases))} to the internet; "
            "allow only the cluster's subnets"
        )
    for rule in ingress_rules(args):
        if rule.get("protocol") == "ICMP" or not world_open(blocks(rule)):
            continue
        low, high = ports(rule)
        label = f"{args.name}: ingress '{rule.get('description', '')}'"
        nodeports = low <= NODE_PORT_RANGE[1] and high >= NODE_PORT_RANGE[0]
        if nodeports and (low, high) != (0, 65535) and not (low == high and low in public):
            report(
                f"{label} opens NodePorts to the internet; allow only the load balancer's health-check "
                "ranges (198.18.235.0/24, 198.18.248.0/24) and the cluster's own networks, and clients "
                "to the ingress controller's own NodePorts (publicNodePorts) alone"
            )
        if (low, high) == (0, 65535):
            report(f"{label} opens every port to the internet; open only the ports needed")


# What administers a node or the cluster: SSH (22), the kubelet's API (10250), etcd's
# client and peer ports (2379, 2380) and the Kubernetes API server's (6443). Kubernetes'
# "Ports and Protocols" page (kubernetes/website content/en/docs/reference/networking/ports-and-protocols.md).
ADMIN_PORTS = {
    22: "SSH",
    10250: "the kubelet API",
    2379: "etcd",
    2380: "etcd peers",
    6443: "the Kubernetes API",
}
# More of the internet than this reaching an administrative port is too much: a /16, the most a
# production stack's whole API allow-list may admit (infra/settings/cluster.py,
# MAX_PRODUCTION_API_ADDRESSES). WORLD_SHARE (a /8) let SSH or the kubelet face 8 million addresses.
ADMIN_SHARE = 2**16 / PUBLIC_V4


def _outside(networks: list[Network], allowed: list[Network]) -> list[Network]:
    return [
        n
        for n in networks
        if not any(n.version == a.version and n.subnet_of(a) for a in allowed)  # type: ignore[arg-type]
    ]


def admin_ports_closed(args: ResourceArgs, report: Report) -> None:
    """No one administers a node or the cluster from the internet.

    SSH, the kubelet, etcd and the Kubernetes API (6443) are open to no more than a
    /16's worth of the internet, the API beyond that only inside the stack's own
    allow-list (``cluster.api_allowed_cidrs``: ``apiAllowedCidrs``).
    """
    allowed = _networks(args.get_config().get("apiAllowedCidrs") or [])
    for port, what in ADMIN_PORTS.items():
        opened = _networks(opened_to(args, port))
        if port == 6443:
            opened = _outside(opened, allowed)
        share = public_share(opened)
        if share > ADMIN_SHARE:
            report(
                f"{args.name}: opens port {port} ({what}) to {share:.3%} of the internet (more than a "
                "/16's worth); allow only the cluster's own networks (and, for the API, "
                "cluster.api_allowed_cidrs)"
            )


def nodes_private(args: ResourceArgs, report: Report) -> None:
    """Nodes are reached only through the cluster: they have no public IP address."""
    if args.resource_type != NODE_GROUP:
        return
    for interface in dig(args.props, "instanceTemplate", "networkInterfaces") or []:
        if isinstance(interface, Mapping) and interface.get("nat"):
            report(
                f"{args.name}: nodes get public IP addresses (nat: true); set node_group.public_ip: false "
                "(egress goes through the network's NAT gateway)"
            )


def prod_api_private(args: StackArgs, report: Report) -> None:
    """In production, the Kubernetes API does not face the whole internet."""
    if not args.get_config().get("production"):
        return
    public = [
        r
        for r in args.resources
        if r.resource_type == K8S_CLUSTER and dig(r.props, "master", "publicIp") is True
    ]
    if not public:
        return
    for resource in args.resources:
        for port in KUBERNETES_API_PORTS:
            share = public_share(opened_to(resource, port))
            if share >= WORLD_SHARE:
                opened = f"{share:.0%}" if share >= 0.01 else "over a /8's worth"
                report(
                    f"{public[0].name}: the public Kubernetes API is open to {opened} of the "
                    f"internet ({resource.name}, port {port}); set cluster.api_allowed_cidrs to "
                    "the operators' and CI's CIDRs, or cluster.public_api: false",
                    public[0].urn,
                )
                break
