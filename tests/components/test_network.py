"""Network under Pulumi mocks: subnets per zone and security groups with only needed ports."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from infra.conventions import INGRESS_NODE_PORTS
from infra.ops.synth.mocks import mock_id
from infra.ops.synth.runner import Synthesis
from tests.conftest import STACKS

Synth = Callable[[str], Synthesis]
SUBNET = "yandex:index/vpcSubnet:VpcSubnet"
SECURITY_GROUP = "yandex:index/vpcSecurityGroup:VpcSecurityGroup"


def group(synthesis: Synthesis, suffix: str) -> dict[str, Any]:
    (found,) = [g for g in synthesis.of_type(SECURITY_GROUP) if g.name.endswith(suffix)]
    return found.inputs


def test_prod_has_one_subnet_in_each_of_three_zones_without_overlap(synthesized: Synth) -> None:
    subnets = synthesized("prod").of_type(SUBNET)
    assert sorted(s.inputs["zone"] for s in subnets) == ["ru-central1-a", "ru-central1-b", "ru-central1-d"]
    blocks = [s.inputs["v4CidrBlocks"][0] for s in subnets]
    assert len(set(blocks)) == 3, blocks


def test_staging_has_a_single_subnet(synthesized: Synth) -> None:
    assert [s.inputs["zone"] for s in synthesized("staging").of_type(SUBNET)] == ["ru-central1-a"]


@pytest.mark.parametrize(("stack", "allowed"), [("staging", "0.0.0.0/0"), ("prod", "203.0.113.0/24")])
def test_the_master_accepts_only_the_kubernetes_api_from_outside_the_cluster(
    synthesized: Synth, stack: str, allowed: str
) -> None:
    master = group(synthesized(stack), "-master")
    from_outside = [r for r in master["ingresses"] if allowed in r.get("v4CidrBlocks", [])]
    assert from_outside, "the profiles open the API to operators; expected an allow rule"
    assert {r["port"] for r in from_outside} == {443, 6443}, from_outside
    if stack == "prod":
        assert not [r for r in master["ingresses"] if "0.0.0.0/0" in r.get("v4CidrBlocks", [])]


@pytest.mark.parametrize("stack", STACKS)
def test_nodes_admit_clients_on_the_ingress_nodeports_alone(synthesized: Synth, stack: str) -> None:
    nodes = group(synthesized(stack), "-nodes")
    public = [r for r in nodes["ingresses"] if "0.0.0.0/0" in r.get("v4CidrBlocks", [])]
    assert sorted((r["protocol"], r["port"]) for r in public) == [
        ("TCP", port) for port in sorted(INGRESS_NODE_PORTS.values())
    ]
    checks = [r for r in nodes["ingresses"] if "198.18.235.0/24" in r.get("v4CidrBlocks", [])]
    assert [(r["fromPort"], r["toPort"], r["v4CidrBlocks"]) for r in checks] == [
        (0, 65535, ["198.18.235.0/24", "198.18.248.0/24"])
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_subnets_route_to_the_internet_through_the_nat_gateway(synthesized: Synth, stack: str) -> None:
    synthesis = synthesized(stack)
    (gateway,) = synthesis.of_type("pulumi-python:dynamic/egress:EgressGateway")
    (table,) = synthesis.of_type("pulumi-python:dynamic/egress:GatewayRouteTable")
    assert table.inputs["routes"] == [
        {"destination_prefix": "0.0.0.0/0", "gateway_id": mock_id(gateway.type, gateway.name)}
    ]
    assert gateway.urn in table.dependencies
    table_id = mock_id(table.type, table.name)
    assert {s.inputs.get("routeTableId") for s in synthesis.of_type(SUBNET)} == {table_id}
    for node_group in synthesis.of_type("yandex:index/kubernetesNodeGroup:KubernetesNodeGroup"):
        interfaces = node_group.inputs["instanceTemplate"]["networkInterfaces"]
        assert [i.get("nat") for i in interfaces] == [False], node_group.name


@pytest.mark.parametrize("stack", STACKS)
def test_every_rule_says_why_it_exists(synthesized: Synth, stack: str) -> None:
    for suffix in ("-master", "-nodes"):
        inputs = group(synthesized(stack), suffix)
        for rule in inputs["ingresses"] + inputs["egresses"]:
            assert rule.get("description"), (suffix, rule)


@pytest.mark.parametrize("stack", STACKS)
def test_nodes_use_the_node_security_group_and_the_master_its_own(synthesized: Synth, stack: str) -> None:
    synthesis = synthesized(stack)
    groups = {g.name: synthesis.id_of(g) for g in synthesis.of_type(SECURITY_GROUP)}
    (cluster,) = synthesis.of_type("yandex:index/kubernetesCluster:KubernetesCluster")
    assert cluster.inputs["master"]["securityGroupIds"] == [groups["network-master"]]
    for node_group in synthesis.of_type("yandex:index/kubernetesNodeGroup:KubernetesNodeGroup"):
        (interface,) = node_group.inputs["instanceTemplate"]["networkInterfaces"]
        assert interface["securityGroupIds"] == [groups["network-nodes"]], node_group.urn


@pytest.mark.parametrize("stack", STACKS)
def test_nodes_reach_each_other_through_their_own_group_and_all_else_by_address(
    synthesized: Synth, stack: str
) -> None:
    nodes = group(synthesized(stack), "-nodes")
    rules = nodes["ingresses"] + nodes["egresses"]
    to_self = [r for r in rules if r.get("predefinedTarget") == "self_security_group"]
    assert [r["description"] for r in to_self] == ["Node to node"]
    assert "v4CidrBlocks" not in to_self[0]
    for rule in rules:
        if rule not in to_self:
            assert rule.get("v4CidrBlocks"), rule
            assert "predefinedTarget" not in rule, rule
