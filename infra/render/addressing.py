"""Address plan: one subnet per zone, carved from the stack's VPC range."""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Sequence


def zone_subnets(
    cidr: ipaddress.IPv4Network, zones: Sequence[str], prefix: int
) -> dict[str, ipaddress.IPv4Network]:
    """The first len(zones) subnets of size /prefix in `cidr`, in zone order.

    The order is the profile's, so adding a zone at the end never moves the
    subnets of the zones already there.
    """
    subnets = itertools.islice(cidr.subnets(new_prefix=prefix), len(zones))
    plan = dict(zip(zones, subnets, strict=False))
    if len(plan) != len(zones):
        raise ValueError(f"{cidr} has room for {len(plan)} /{prefix} subnets, need {len(zones)}")
    return plan
