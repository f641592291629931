"""Security group rules as data: exposure follows the profile."""

from __future__ import annotations

from infra.render.security_rules import (
    LOAD_BALANCER_HEALTH_CHECKS,
    ClusterAddresses,
    master_rules,
    node_rules,
)


def addresses(*, public_ingress: bool, api: tuple[str, ...]) -> ClusterAddresses:
    return ClusterAddresses(
        subnet_cidrs=["10.1.0.0/24"],
        api_allowed_cidrs=api,
        pod_cidr="10.112.0.0/16",
        service_cidr="10.96.0.0/16",
        public_ingress=public_ingress,
        public_node_ports=(30080, 30443),
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


def test_only_the_ingress_nodeports_admit_clients_and_only_with_public_ingress() -> None:
    closed = node_rules(addresses(public_ingress=False, api=()))
    opened = node_rules(addresses(public_ingress=True, api=()))
    assert not [r for r in closed if "0.0.0.0/0" in r.cidrs and r.direction == "ingress"]
    world = [r for r in opened if "0.0.0.0/0" in r.cidrs and r.direction == "ingress"]
    assert sorted(r.port or 0 for r in world) == [30080, 30443]
    assert all(r.port_range is None for r in world)


def test_every_nodeport_answers_the_load_balancers_health_checks() -> None:
    for public in (False, True):
        checks = [
            r
            for r in node_rules(addresses(public_ingress=public, api=()))
            if r.cidrs == LOAD_BALANCER_HEALTH_CHECKS
        ]
        assert [(r.protocol, r.port_range) for r in checks] == [("TCP", (0, 65535))]
    assert LOAD_BALANCER_HEALTH_CHECKS == ("198.18.235.0/24", "198.18.248.0/24")
