"""Security group rules as data: exposure follows the profile."""

from __future__ import annotations

from infra.render.security_rules import ClusterAddresses, master_rules, node_rules


def addresses(*, public_ingress: bool, api: tuple[str, ...]) -> ClusterAddresses:
    return ClusterAddresses(
        subnet_cidrs=["10.1.0.0/24"],
        api_allowed_cidrs=api,
        pod_cidr="10.112.0.0/16",
        service_cidr="10.96.0.0/16",
        public_ingress=public_ingress,
    )


def test_a_private_api_has_no_rule_from_outside_the_network() -> None:
    rules = master_rules(addresses(public_ingress=False, api=()))
    outside = [
        r
        for r in rules
        if r.direction == "ingress" and not any(c.startswith(("10.", "198.18.")) for c in r.cidrs)
    ]
    assert outside == []


def test_the_api_is_opened_only_to_the_allowed_ranges() -> None:
    rules = master_rules(addresses(public_ingress=False, api=("203.0.113.0/24",)))
    opened = {r.port for r in rules if "203.0.113.0/24" in r.cidrs}
    assert opened == {443, 6443}


def test_nodeports_open_only_with_public_ingress() -> None:
    closed = node_rules(addresses(public_ingress=False, api=()))
    opened = node_rules(addresses(public_ingress=True, api=()))
    assert not [r for r in closed if r.port_range == (30000, 32767)]
    assert [r.cidrs for r in opened if r.port_range == (30000, 32767)] == [("0.0.0.0/0",)]
