"""The network, the Kubernetes cluster and its node groups."""

from __future__ import annotations

import ipaddress
import operator
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from infra.settings.base import (
    Cidr,
    Clock,
    PrivateCidr,
    StrictModel,
    Zone,
    is_offline,
    is_production,
    production_rules,
)


class NetworkProfile(StrictModel):
    """The VPC: one subnet per zone, routed to the internet through a NAT gateway."""

    zones: list[Zone] = Field(min_length=1, description="the zones the stack runs in, each once")
    cidr: PrivateCidr = Field(description="the VPC's address range, which the zones' subnets are carved from")
    # One subnet of this size per zone is carved from `cidr`, in zone order.
    subnet_prefix: int = Field(default=24, ge=16, le=28)

    @field_validator("zones")
    @classmethod
    def _zones(cls, zones: list[Zone], info: ValidationInfo) -> list[Zone]:
        if len(set(zones)) != len(zones):
            raise ValueError("zones must not repeat")
        if is_production(info) and len(zones) < 3:
            raise ValueError(
                f"a production stack needs all 3 zones so that it survives a zone outage (got {len(zones)})"
            )
        return zones

    @model_validator(mode="after")
    def _room_for_subnets(self) -> NetworkProfile:
        if self.subnet_prefix < self.cidr.prefixlen:
            raise ValueError(f"subnet_prefix /{self.subnet_prefix} is larger than cidr {self.cidr}")
        room = 2 ** (self.subnet_prefix - self.cidr.prefixlen)
        if room < len(self.zones):
            raise ValueError(
                f"cidr {self.cidr} holds {room} /{self.subnet_prefix} subnets, need {len(self.zones)}"
            )
        return self


class MaintenanceWindow(StrictModel):
    """When Managed Kubernetes may update the master: one window a week."""

    day: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] = Field(
        description="the window's weekday"
    )
    start_time: Clock = Field(description="when it starts")
    duration_hours: int = Field(ge=1, le=24, description="its length in hours")


# CloudNativePG 1.30 (infra/render/charts.py) supports these Kubernetes minors
# (docs/src/supported_releases.md at v1.30.0); 1.30-1.33 are "tested, not supported".
DATABASE_OPERATOR_KUBERNETES = ("1.34", "1.35", "1.36")


# How many addresses a production stack's API allow-list may admit, all entries together (overlaps
# merged): a /16. The list is for the operators' offices and the CI runners' egress, a few /32s and a
# /24 or two; a /16 is already a whole provider's pool, and past it the list admits strangers by the
# million (221 /8 blocks, each narrow enough alone, are 86 % of the internet).
MAX_PRODUCTION_API_ADDRESSES = 2**16
# RFC 5737's documentation ranges: routed nowhere, so an allow-list of them admits nobody.
# The committed prod profile carries one as a placeholder that synth accepts and a real run refuses.
DOCUMENTATION_RANGES = tuple(
    ipaddress.IPv4Network(block) for block in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
)


def allowed_addresses(cidrs: list[Cidr]) -> int:
    """How many addresses the blocks admit together, each counted once however many blocks hold it."""
    return sum(block.num_addresses for block in ipaddress.collapse_addresses(cidrs))


class ClusterProfile(StrictModel):
    """The Managed Kubernetes cluster: version, master, API access and address ranges."""

    version: str = Field(
        pattern=r"^1\.(2[89]|3[0-9])$",
        description="Kubernetes minor: one CloudNativePG supports "
        f"({', '.join(DATABASE_OPERATOR_KUBERNETES)})",
    )
    release_channel: Literal["RAPID", "REGULAR", "STABLE"] = Field(
        description="Managed Kubernetes release channel: how soon the master gets new versions"
    )
    regional_master: bool = Field(description="a master in each of 3 zones (needs exactly 3 zones)")
    public_api: bool = Field(description="a public address for the Kubernetes API")
    api_allowed_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="who may reach the Kubernetes API (operators' and CI runners' egress); in production "
        f"{MAX_PRODUCTION_API_ADDRESSES:,} addresses at most, all entries together",
    )
    # Lets the cluster create a public load balancer for the ingress controller
    # and opens the controller's two NodePorts to the clients it forwards
    # (the network load balancer keeps client addresses); every other NodePort
    # answers only the load balancer's health checks and the cluster.
    public_ingress: bool = True
    pod_cidr: PrivateCidr = Field(
        description="pods' addresses; overlaps neither service_cidr nor network.cidr"
    )
    service_cidr: PrivateCidr = Field(
        description="Services' addresses; overlaps neither pod_cidr nor network.cidr"
    )
    node_cidr_mask_size: int = Field(default=24, ge=24, le=28, description="the pod range of each node")
    maintenance: MaintenanceWindow

    @field_validator("version")
    @classmethod
    def _operator_supports_it(cls, value: str) -> str:
        if value not in DATABASE_OPERATOR_KUBERNETES:
            raise ValueError(
                f"Kubernetes {value} is outside what CloudNativePG 1.30 supports "
                f"({', '.join(DATABASE_OPERATOR_KUBERNETES)}): the database's operator would run unsupported"
            )
        return value

    _in_production = production_rules(
        {"regional_master": (operator.not_, "a production stack needs a regional (three-zone) master")}
    )

    @model_validator(mode="after")
    def _api_reachable(self) -> ClusterProfile:
        if self.public_api and not self.api_allowed_cidrs:
            raise ValueError("public_api needs at least one entry in api_allowed_cidrs")
        return self

    @field_validator("api_allowed_cidrs")
    @classmethod
    def _api_allow_list(cls, cidrs: list[Cidr], info: ValidationInfo) -> list[Cidr]:
        # Judged by what the entries open together: the security groups admit each of them on 443 and
        # 6443 (infra/render/security_rules.py), whether or not public_api is set.
        admitted = allowed_addresses(cidrs)
        if is_production(info) and admitted > MAX_PRODUCTION_API_ADDRESSES:
            share = 100 * admitted / 2**32
            raise ValueError(
                f"a production Kubernetes API answers only its operators and CI: the {len(cidrs)} entries "
                f"admit {admitted:,} addresses together ({share:.3g} % of IPv4), more than a /16 "
                f"({MAX_PRODUCTION_API_ADDRESSES:,}): list the operators' and CI runners' egress CIDRs, "
                "or set public_api: false and list none"
            )
        # Offline (synth, check) the placeholder is fine; a real run would wait on an API nobody reaches.
        placeholders = [str(c) for c in cidrs if any(c.subnet_of(d) for d in DOCUMENTATION_RANGES)]
        if placeholders and not is_offline(info):
            raise ValueError(
                f"{', '.join(placeholders)} is a documentation range (RFC 5737) that admits nobody: "
                "list the CI runner's address (scripts/bootstrap-runner prints it) and the operators' "
                "egress ranges (docs/first-deploy.md)"
            )
        return cidrs


class NodeGroupProfile(StrictModel):
    """The worker nodes: one autoscaled group per zone, all of this size."""

    platform_id: Literal["standard-v2", "standard-v3"] = Field(
        default="standard-v3", description="the VMs' Compute Cloud platform"
    )
    cores: int = Field(ge=2, le=96, description="vCPUs per node")
    memory_gb: int = Field(ge=2, le=640, description="memory per node, GB")
    core_fraction: Literal[20, 50, 100] = Field(default=100, description="guaranteed share of each vCPU, %")
    disk_type: Literal["network-hdd", "network-ssd"] = Field(
        default="network-ssd", description="the boot disk's type"
    )
    disk_gb: int = Field(ge=64, le=2048, description="the boot disk's size, GB")
    preemptible: bool = Field(default=False, description="preemptible VMs (cheaper; stopped at any time)")
    # Nodes have no public address: egress goes through the network's NAT gateway
    # (components/network.py). A public address per node is for debugging a
    # non-production stack only.
    public_ip: bool = False
    min_per_zone: int = Field(
        ge=0, le=100, description="the autoscaler's floor in each zone, at least 1 in production"
    )
    max_per_zone: int = Field(ge=1, le=100, description="its ceiling in each zone, at least min_per_zone")

    _in_production = production_rules(
        {
            "preemptible": (bool, "a production stack must not run on preemptible nodes"),
            "public_ip": (
                bool,
                "production nodes must not have public addresses (egress is the NAT gateway)",
            ),
            "min_per_zone": (
                lambda count: count < 1,
                "a production stack keeps at least 1 node in each zone (got {value}): with 0 the autoscaler "
                "may remove a zone's last node, and what is bound to that zone (its database instance, on a "
                "zonal volume) waits minutes for a new one, so the three zones no longer ride out a zone's "
                "outage",
            ),
        }
    )

    @model_validator(mode="after")
    def _bounds(self) -> NodeGroupProfile:
        if self.min_per_zone > self.max_per_zone:
            raise ValueError(f"min_per_zone {self.min_per_zone} exceeds max_per_zone {self.max_per_zone}")
        return self
