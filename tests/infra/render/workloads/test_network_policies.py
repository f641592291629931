"""NetworkPolicies: deny by default; each allowed connection is allowed at both of its ends, no other."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

import kubernetes_validate
import pytest

from infra.conventions import (
    APP_NAMESPACE,
    DATABASE_OPERATOR_NAMESPACE,
    INGRESS_NAMESPACE,
    MONITORING_NAMESPACE,
    NAME_LABEL,
    REDIS_PORT,
    REDIS_TLS_PORT,
    Naming,
)
from infra.render import charts, redis
from infra.render.database import manifests as db_manifests
from infra.render.database import plan as db
from infra.render.workloads import manifests as m
from infra.render.workloads.network_policies import network_policies
from infra.settings import load_settings
from tests.conftest import stack_file_values

NAMING = Naming("unit")
VPC = "10.20.0.0/16"
Policy = dict[str, Any]
Labels = dict[str, str]


# Redis in the app's namespace (without a password: the policies are its fence), or Managed Redis in the VPC.
PLACEMENTS = {"redis in cluster": True, "managed redis": False}


def policies(cidr: str = VPC, *, in_cluster: bool = True) -> dict[str, Policy]:
    documents = network_policies(NAMING, cidr, redis_in_cluster=in_cluster)
    return {p["metadata"]["name"]: p["spec"] for p in documents}


def selects(selector: Labels, labels: Labels) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def selector(policy: Policy) -> Labels:
    found: Labels = policy["podSelector"].get("matchLabels", {})
    return found


def ports_of(rule: Policy) -> set[tuple[int, str]]:
    return {(p["port"], p.get("protocol", "TCP")) for p in rule.get("ports", [])}


def rules(direction: str, pods: Labels, *, in_cluster: bool = True) -> Iterator[Policy]:
    """Every rule of one direction that applies to pods carrying these labels."""
    kind = direction.capitalize()
    for spec in policies(in_cluster=in_cluster).values():
        if kind in spec["policyTypes"] and selects(selector(spec), pods):
            yield from spec.get(direction, [])


def admits(rule: Policy, side: str, peer: Labels, port: tuple[int, str]) -> bool:
    """Whether a rule lets pods of this namespace carrying `peer`'s labels through on `port`."""
    in_namespace = [p["podSelector"].get("matchLabels", {}) for p in rule[side] if set(p) == {"podSelector"}]
    open_ports = ports_of(rule)
    return any(selects(s, peer) for s in in_namespace) and (not open_ports or port in open_ports)


def connections(in_cluster: bool) -> Iterator[tuple[str, Labels, Labels, tuple[int, str]]]:
    """(direction, pods the rule is about, the peer pods, port) for every in-namespace peer of every rule."""
    for spec in policies(in_cluster=in_cluster).values():
        for direction, side in (("egress", "to"), ("ingress", "from")):
            for rule in spec.get(direction, []):
                for peer in rule[side]:
                    if set(peer) == {"podSelector"}:
                        for port in ports_of(rule):
                            yield direction, selector(spec), peer["podSelector"]["matchLabels"], port


def prod_pod_labels() -> dict[str, Labels]:
    """The labels of the pods the policies are about, as the renderers and CloudNativePG give them."""
    settings = load_settings("prod", stack_file_values("prod"), offline=True)
    spec = m.AppSpec.of(settings)
    pods = {
        service: render(NAMING, spec, "image")["spec"]["template"]["metadata"]["labels"]
        for service, render in (
            ("api", m.api_deployment),
            ("worker", m.worker_deployment),
            ("frontend", m.frontend_deployment),
        )
    }
    prof = settings.database
    cluster = db_manifests.cluster(NAMING, APP_NAMESPACE, prof, db.backup_plan(NAMING, prof), 3)
    pooler = db_manifests.pooler(NAMING, APP_NAMESPACE, prof)
    # CloudNativePG labels instance pods with their cluster and role, pooler pods with the Pooler's name.
    pods["database-instances"] = {
        "cnpg.io/cluster": cluster["metadata"]["name"],
        "cnpg.io/podRole": "instance",
    }
    pods["database-pooler"] = {"cnpg.io/poolerName": pooler["metadata"]["name"]}
    # The chart labels its pods with its own name.
    pods["redis-exporter"] = {NAME_LABEL: charts.REDIS_EXPORTER.name, "app.kubernetes.io/instance": "x"}
    assert settings.workloads.redis.in_cluster is not None
    redis_pods = redis.stateful_set(NAMING, settings.workloads.redis.in_cluster)["spec"]["template"]
    pods["redis"] = redis_pods["metadata"]["labels"]
    return pods


@pytest.mark.parametrize("in_cluster", PLACEMENTS.values(), ids=PLACEMENTS.keys())
def test_the_policies_are_valid_objects_of_the_app_namespace_with_unique_names(in_cluster: bool) -> None:
    documents = network_policies(NAMING, VPC, redis_in_cluster=in_cluster)
    for document in documents:
        kubernetes_validate.validate(document, "1.30.0", strict=True)
        assert document["metadata"]["namespace"] == APP_NAMESPACE
    names = [d["metadata"]["name"] for d in documents]
    assert len(names) == len(set(names))


def test_everything_is_denied_unless_a_policy_allows_it() -> None:
    assert policies()["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_every_pod_may_resolve_names_over_udp_and_tcp() -> None:
    dns = policies()["allow-dns"]
    assert dns["podSelector"] == {}
    (rule,) = dns["egress"]
    assert rule["to"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}
    ]
    assert ports_of(rule) == {(53, "UDP"), (53, "TCP")}


@pytest.mark.parametrize("in_cluster", PLACEMENTS.values(), ids=PLACEMENTS.keys())
def test_each_policy_declares_exactly_the_directions_it_has_rules_for(in_cluster: bool) -> None:
    for name, spec in policies(in_cluster=in_cluster).items():
        if name == "default-deny":
            continue
        declared = set(spec["policyTypes"])
        assert declared == {d.capitalize() for d in ("ingress", "egress") if spec.get(d)}, name


def test_each_workloads_policy_selects_that_workloads_pods_and_no_other() -> None:
    pods = prod_pod_labels()
    for name, labels in pods.items():
        policy = policies()[name]
        assert selects(selector(policy), labels), name
        others = [
            other for other, their in pods.items() if other != name and selects(selector(policy), their)
        ]
        assert others == [], name


@pytest.mark.parametrize("in_cluster", PLACEMENTS.values(), ids=PLACEMENTS.keys())
def test_every_connection_allowed_at_one_end_is_allowed_at_the_other(in_cluster: bool) -> None:
    seen = 0
    for direction, pods, peer, port in connections(in_cluster):
        seen += 1
        if direction == "egress":
            # pods -> peer: the peer's policies must let pods in.
            allowed = any(
                admits(r, "from", pods, port) for r in rules("ingress", peer, in_cluster=in_cluster)
            )
        else:
            # peer -> pods: the peer's policies must let it out.
            allowed = any(admits(r, "to", pods, port) for r in rules("egress", peer, in_cluster=in_cluster))
        assert allowed, (direction, pods, peer, port)
    assert seen >= 10


@pytest.mark.parametrize("cidr", ["10.10.0.0/16", "10.20.0.0/16", "172.16.0.0/12"])
def test_managed_redis_is_reached_only_inside_the_vpc_and_only_on_its_tls_port(cidr: str) -> None:
    found = 0
    for spec in policies(cidr, in_cluster=False).values():
        for rule in spec.get("egress", []):
            if (REDIS_TLS_PORT, "TCP") in ports_of(rule):
                found += 1
                assert rule["to"] == [{"ipBlock": {"cidr": cidr}}]
                assert ports_of(rule) == {(REDIS_TLS_PORT, "TCP")}
    # The api, the worker and the Redis exporter.
    assert found == 3
    assert "redis" not in policies(cidr, in_cluster=False)


def test_redis_in_the_cluster_lets_in_only_the_api_the_worker_and_the_exporter() -> None:
    pods = prod_pod_labels()
    allowed = list(rules("ingress", pods["redis"]))
    assert [ports_of(r) for r in allowed] == [{(REDIS_PORT, "TCP")}]
    admitted = sorted(
        name for name, labels in pods.items() if admits(allowed[0], "from", labels, (REDIS_PORT, "TCP"))
    )
    assert admitted == ["api", "redis-exporter", "worker"]
    # Nothing reaches a Redis outside the cluster, and Redis itself calls nothing but DNS.
    for spec in policies().values():
        for rule in spec.get("egress", []):
            assert (REDIS_TLS_PORT, "TCP") not in ports_of(rule)
    assert list(rules("egress", pods["redis"])) == policies()["allow-dns"]["egress"]


def test_the_internet_is_reached_only_over_https_and_the_kubernetes_api_port() -> None:
    for name, spec in policies().items():
        for rule in spec.get("egress", []):
            for peer in rule["to"]:
                block = peer.get("ipBlock")
                if block and ipaddress.ip_network(block["cidr"]).prefixlen == 0:
                    assert {port for port, _ in ports_of(rule)} <= {443, 6443}, name


def test_the_frontend_and_the_worker_are_reached_only_as_they_must_be() -> None:
    pods = prod_pod_labels()
    # Nothing calls the worker; the frontend calls nothing but DNS.
    assert list(rules("ingress", pods["worker"])) == []
    egress = list(rules("egress", pods["frontend"]))
    assert egress == policies()["allow-dns"]["egress"]


def namespace_peer(name: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}


def test_the_ingress_controller_reaches_the_ports_the_app_listens_on() -> None:
    pods = prod_pod_labels()
    spec = m.AppSpec.of(load_settings("prod", stack_file_values("prod"), offline=True))
    for service, render in (("api", m.api_deployment), ("frontend", m.frontend_deployment)):
        (container,) = render(NAMING, spec, "image")["spec"]["template"]["spec"]["containers"]
        (http,) = (p["containerPort"] for p in container["ports"] if p["name"] == "http")
        allowed = [
            r for r in rules("ingress", pods[service]) if namespace_peer(INGRESS_NAMESPACE) in r["from"]
        ]
        assert [ports_of(r) for r in allowed] == [{(http, "TCP")}], service


@pytest.mark.parametrize(
    ("workload", "port"),
    [("api", 8000), ("frontend", 80), ("database-pooler", 9127), ("database-instances", 9187)],
)
def test_prometheus_and_the_blackbox_exporter_reach_what_they_scrape_and_probe(
    workload: str, port: int
) -> None:
    allowed = [
        r
        for r in rules("ingress", prod_pod_labels()[workload])
        if namespace_peer(MONITORING_NAMESPACE) in r["from"]
    ]
    assert {p for r in allowed for p, _ in ports_of(r)} == {port}


def test_the_operator_reaches_the_instances_status_port() -> None:
    allowed = [
        r
        for r in rules("ingress", prod_pod_labels()["database-instances"])
        if namespace_peer(DATABASE_OPERATOR_NAMESPACE) in r["from"]
    ]
    assert [ports_of(r) for r in allowed] == [{(8000, "TCP")}]
