"""Who and what may reach the stack: IAM roles, security groups, private nodes, a private prod API."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from infra.policy.validators.common import (
    K8S_CLUSTER,
    NODE_GROUP,
    SECURITY_GROUP,
    SECURITY_GROUP_RULE,
    Report,
    ResourceArgs,
    StackArgs,
    _kind,
)

PRIMITIVE_ROLES = frozenset({"admin", "editor", "owner"})


# resource-manager.clouds.owner, resource-manager.admin, organization-manager.admin, ...
BROAD_ROLE = re.compile(r"^(resource-manager|organization-manager|billing)\.([a-z]+\.)?(owner|admin|editor)$")


def _broad_role(role: str) -> bool:
    return role in PRIMITIVE_ROLES or bool(BROAD_ROLE.match(role))


def no_primitive_roles(args: ResourceArgs, report: Report) -> None:
    """No account gets a primitive role (admin, editor) or owner/admin of a cloud, folder or organization."""
    roles = [args.props.get("role"), *(args.props.get("roles") or [])]
    for role in roles:
        if isinstance(role, str) and _broad_role(role):
            report(f"{args.name}: grants the broad role '{role}'; grant the narrowest service role instead")
    if _kind(args.resource_type) in ("ClusterRoleBinding", "RoleBinding"):
        ref = (args.props.get("roleRef") or {}).get("name")
        if ref in ("cluster-admin", "admin"):
            report(f"{args.name}: binds the Kubernetes role '{ref}'; bind a role with only the verbs needed")
    members = [args.props.get("member"), *(args.props.get("members") or [])]
    if any(m in ("system:allUsers", "system:allAuthenticatedUsers") for m in members):
        report(f"{args.name}: grants a role to everyone (system:allUsers); name the accounts instead")


# Ports of databases and caches that must never face the internet.
DATABASE_PORTS = (3306, 5432, 6379, 6380, 6432, 9200, 11211, 26379, 27017)


KUBERNETES_API_PORTS = (443, 6443)


NODE_PORT_RANGE = (30000, 32767)


WORLD = frozenset({"0.0.0.0/0", "::/0"})


def _ingress_rules(resource: Any) -> Iterator[Mapping[str, Any]]:
    if resource.resource_type == SECURITY_GROUP:
        yield from (r for r in resource.props.get("ingresses") or [] if isinstance(r, Mapping))
    elif resource.resource_type == SECURITY_GROUP_RULE and resource.props.get("direction") == "ingress":
        yield resource.props


def _port(value: Any) -> int | None:
    # Numbers arrive as floats through the engine's protobuf Struct.
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return int(value)


def _ports(rule: Mapping[str, Any]) -> tuple[int, int]:
    port = _port(rule.get("port"))
    if port is not None:
        return port, port
    low, high = _port(rule.get("fromPort")), _port(rule.get("toPort"))
    return (0 if low is None else low, 65535 if high is None else high)


def _world_open(rule: Mapping[str, Any]) -> bool:
    blocks = [*(rule.get("v4CidrBlocks") or []), *(rule.get("v6CidrBlocks") or [])]
    return any(block in WORLD for block in blocks)


def _covers(ports: tuple[int, int], wanted: tuple[int, ...]) -> list[int]:
    return [port for port in wanted if ports[0] <= port <= ports[1]]


def security_groups_closed(args: ResourceArgs, report: Report) -> None:
    """No security group opens database ports, every port, or NodePorts beyond the ingress's to anyone.

    The Kubernetes API's exposure is ``prod-api-private``'s.
    """
    public = {int(port) for port in args.get_config().get("publicNodePorts") or []}
    for rule in _ingress_rules(args):
        if not _world_open(rule) or rule.get("protocol") == "ICMP":
            continue
        ports = _ports(rule)
        label = f"{args.name}: ingress '{rule.get('description', '')}'"
        if databases := _covers(ports, DATABASE_PORTS):
            report(
                f"{label} opens database port(s) {', '.join(map(str, databases))} to 0.0.0.0/0; "
                "allow only the cluster's subnets"
            )
        nodeports = ports[0] <= NODE_PORT_RANGE[1] and ports[1] >= NODE_PORT_RANGE[0]
        if nodeports and ports != (0, 65535) and not (ports[0] == ports[1] and ports[0] in public):
            report(
                f"{label} opens NodePorts to 0.0.0.0/0; allow only the load balancer's health-check "
                "ranges (198.18.235.0/24, 198.18.248.0/24) and the cluster's own networks, and clients "
                "to the ingress controller's own NodePorts (publicNodePorts) alone"
            )
        if ports == (0, 65535):
            report(f"{label} opens every port to 0.0.0.0/0; open only the ports needed")


def nodes_private(args: ResourceArgs, report: Report) -> None:
    """Kubernetes nodes have no public IP address: egress goes through the NAT gateway."""
    if args.resource_type != NODE_GROUP:
        return
    template = args.props.get("instanceTemplate") or {}
    for interface in template.get("networkInterfaces") or []:
        if isinstance(interface, Mapping) and interface.get("nat"):
            report(
                f"{args.name}: nodes get public IP addresses (nat: true); set node_group.public_ip: false "
                "(egress goes through the network's NAT gateway)"
            )


def prod_api_private(args: StackArgs, report: Report) -> None:
    """In production, a public Kubernetes API is not open to the whole internet."""
    if not args.get_config().get("production"):
        return
    public = [
        r
        for r in args.resources
        if r.resource_type == K8S_CLUSTER and ((r.props.get("master") or {}).get("publicIp") is True)
    ]
    if not public:
        return
    for resource in args.resources:
        for rule in _ingress_rules(resource):
            if _world_open(rule) and _covers(_ports(rule), KUBERNETES_API_PORTS):
                report(
                    f"{public[0].name}: the public Kubernetes API is open to 0.0.0.0/0 "
                    f"({resource.name}: '{rule.get('description', '')}'); set cluster.api_allowed_cidrs to "
                    "the operators' and CI's CIDRs, or cluster.public_api: false",
                    public[0].urn,
                )
