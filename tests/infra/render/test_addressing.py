"""Zone subnets carved from the VPC range."""

from __future__ import annotations

import ipaddress

import pytest

from infra.render.addressing import zone_subnets


def test_each_zone_gets_its_own_subnet_in_profile_order() -> None:
    plan = zone_subnets(ipaddress.IPv4Network("10.20.0.0/16"), ["ru-central1-b", "ru-central1-a"], 24)
    assert plan == {
        "ru-central1-b": ipaddress.IPv4Network("10.20.0.0/24"),
        "ru-central1-a": ipaddress.IPv4Network("10.20.1.0/24"),
    }


def test_adding_a_zone_keeps_the_existing_subnets() -> None:
    cidr = ipaddress.IPv4Network("10.20.0.0/16")
    one = zone_subnets(cidr, ["ru-central1-a"], 24)
    three = zone_subnets(cidr, ["ru-central1-a", "ru-central1-b", "ru-central1-d"], 24)
    assert three["ru-central1-a"] == one["ru-central1-a"]


def test_a_range_too_small_for_the_zones_is_refused() -> None:
    with pytest.raises(ValueError, match="room for 2 /24 subnets, need 3"):
        zone_subnets(ipaddress.IPv4Network("10.0.0.0/23"), ["a", "b", "c"], 24)
