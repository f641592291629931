"""NetworkPolicies: deny by default; each allowed connection is allowed at both of its ends, no other.

These read the policies directly, with the pods' labels as the renderers and
the operators set them (upstream_pods.py). test_reachability.py has IBM's
NetworkPolicy analyzer judge the whole set against the needed connections.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from typing import Any

import kubernetes_validate
import pytest

from infra.conventions import (
    APP_NAMESPACE,
    DATABASE_CLUSTER,
    DATABASE_OPERATOR_NAMESPACE,
    FLAGGER_NAMESPACE,
    INGRESS_NAMESPACE,
    MONITORING_NAMESPACE,
    REDIS,
    REDIS_PORT,
    Naming,
)
from infra.render import redis
from infra.render.workloads import drill, rehearsal
from infra.render.workloads import manifests as m
from infra.render.workloads import reachability as r
from infra.render.workloads import upstream_pods as up
from infra.render.workloads.flagger_made import primary_deployment
from infra.render.workloads.migrations import migration_job
from infra.render.workloads.network_policies import network_policies
from infra.render.workloads.rehearsal import rehearsal_job
from infra.settings import load_settings
from tests.conftest import stack_file_values

NAMING = Naming("unit")
RESTORE = "samokoder-db-restore-20260101-0000"
Policy = dict[str, Any]
Labels = Mapping[str, str]


def policies() -> dict[str, Policy]:
    # With those a migration rehearsal creates while it runs.
    found = [*network_policies(NAMING), *rehearsal.rehearsal_policies(NAMING, "9f8e7d")]
    return {p["metadata"]["name"]: p["spec"] for p in found}


def matches(selector: Policy, labels: Labels) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against a pod's labels."""
    if not all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        value, values = labels.get(expression["key"]), expression.get("values", [])
        if not {
            "In": value in values,
            "NotIn": value not in values,
            "Exists": value is not None,
            "DoesNotExist": value is None,
        }[expression["operator"]]:
            return False
    return True


def ports_of(rule: Policy) -> set[tuple[int, str]]:
    return {(p["port"], p.get("protocol", "TCP")) for p in rule.get("ports", [])}


def rules(direction: str, pods: Labels) -> Iterator[Policy]:
    """Every rule of one direction that applies to pods carrying these labels."""
    for spec in policies().values():
        if direction.capitalize() in spec["policyTypes"] and matches(spec["podSelector"], pods):
            yield from spec.get(direction, [])


def in_namespace_peers(rule: Policy, side: str) -> list[Policy]:
    return [p["podSelector"] for p in rule[side] if set(p) == {"podSelector"}]


def admits(rule: Policy, side: str, peer: Labels, port: tuple[int, str]) -> bool:
    """Whether a rule lets pods of this namespace carrying `peer`'s labels through on `port`."""
    open_ports = ports_of(rule)
    peers = in_namespace_peers(rule, side)
    return any(matches(s, peer) for s in peers) and (not open_ports or port in open_ports)


def from_namespace(rule: Policy, namespace: str, pod: Labels) -> bool:
    """Whether a rule lets in this pod of another namespace."""
    return any(
        p.get("namespaceSelector", {}).get("matchLabels") == {"kubernetes.io/metadata.name": namespace}
        and matches(p.get("podSelector", {}), pod)
        for p in rule["from"]
    )


def pod_labels() -> dict[str, Labels]:
    """Every pod of the app namespace: ours as the renderers label them, the rest as their makers do."""
    settings = load_settings("prod", stack_file_values("prod"), offline=True)
    spec = m.AppSpec.of(settings)
    ours: dict[str, Labels] = {
        service: render(NAMING, spec, "image")["spec"]["template"]["metadata"]["labels"]
        for service, render in ((up.API, m.api_deployment), (up.WORKER, m.worker_deployment))
    }
    ours[up.FRONTEND] = m.frontend_deployment(NAMING, spec, "image")["spec"]["template"]["metadata"]["labels"]
    # The promoted API pods Flagger runs from the API's Deployment.
    promoted = primary_deployment(m.api_deployment(NAMING, spec, "image"))
    ours[up.API_PRIMARY] = promoted["spec"]["template"]["metadata"]["labels"]
    ours[up.MIGRATE] = migration_job(NAMING, "4f2a9c1d7e3b", "image")["spec"]["template"]["metadata"][
        "labels"
    ]
    ours[REDIS] = redis.stateful_set(NAMING, settings.workloads.redis)["spec"]["template"]["metadata"][
        "labels"
    ]
    job = rehearsal_job(NAMING, "b2c3d4", "9f8e7d", "image")
    ours[rehearsal.REHEARSAL] = job["spec"]["template"]["metadata"]["labels"]
    stack = r.Stack(
        "example.org", 3, RESTORE, rehearsal.copy_name("b2c3d4", "9f8e7d"), drill.copy_name("9f8e7d")
    )
    return {
        (w.name if len(w.pods) == 1 else pod): labels
        for w in r.app_namespace_workloads(stack, ours)
        for pod, labels in w.pods
    }


def outside(name: str) -> Labels:
    (workload,) = (w for w in up.cluster_workloads() if w.name == name)
    ((_, labels),) = workload.pods
    return labels


def test_the_policies_are_valid_objects_of_the_app_namespace_with_unique_names() -> None:
    documents = network_policies(NAMING)
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


def test_each_policy_declares_exactly_the_directions_it_has_rules_for() -> None:
    for name, spec in policies().items():
        if name == "default-deny":
            continue
        declared = set(spec["policyTypes"])
        assert declared == {d.capitalize() for d in ("ingress", "egress") if spec.get(d)}, name


def test_every_policy_selects_some_pod_and_every_pod_is_selected_by_some_policy_beyond_dns() -> None:
    pods = pod_labels()
    chosen = {
        name: [pod for pod, labels in pods.items() if matches(spec["podSelector"], labels)]
        for name, spec in policies().items()
        if spec["podSelector"]
    }
    assert [name for name, found in chosen.items() if not found] == []
    # The solver is only let in; every other pod has a policy of its own.
    assert {pod for found in chosen.values() for pod in found} == set(pods)


def test_every_connection_allowed_at_one_end_is_allowed_at_the_other() -> None:
    pods = pod_labels()
    seen = 0
    for name, spec in policies().items():
        own = [labels for labels in pods.values() if matches(spec["podSelector"], labels)]
        for direction, side, other in (("egress", "to", "ingress"), ("ingress", "from", "egress")):
            for rule in spec.get(direction, []):
                for peer in in_namespace_peers(rule, side):
                    for port in ports_of(rule):
                        pairs = [(a, b) for a in own for b in pods.values() if matches(peer, b) and a != b]
                        assert pairs, (name, peer)
                        for mine, theirs in pairs:
                            back = "from" if other == "ingress" else "to"
                            assert any(admits(r_, back, mine, port) for r_ in rules(other, theirs)), (
                                name,
                                direction,
                                peer,
                                port,
                            )
                            seen += 1
    assert seen >= 30


def test_redis_in_the_cluster_lets_in_only_the_api_the_worker_and_the_exporter() -> None:
    pods = pod_labels()
    allowed = list(rules("ingress", pods[REDIS]))
    assert [ports_of(rule) for rule in allowed] == [{(REDIS_PORT, "TCP")}]
    admitted = sorted(
        name for name, labels in pods.items() if admits(allowed[0], "from", labels, (6379, "TCP"))
    )
    assert admitted == sorted([up.API, up.API_PRIMARY, up.REDIS_EXPORTER, up.WORKER])
    # Redis's port leads to Redis's pods alone, and Redis itself calls nothing but DNS.
    to_redis = [
        rule
        for spec in policies().values()
        for rule in spec.get("egress", [])
        if (REDIS_PORT, "TCP") in ports_of(rule)
    ]
    assert len(to_redis) == 3  # the api's, the worker's, the exporter's
    for rule in to_redis:
        assert ports_of(rule) == {(REDIS_PORT, "TCP")}
        assert [matches(peer, pods[REDIS]) for peer in in_namespace_peers(rule, "to")] == [True]
        assert len(rule["to"]) == 1
    assert list(rules("egress", pods[REDIS])) == policies()["allow-dns"]["egress"]


def test_the_internet_is_reached_only_over_https_and_the_kubernetes_api_ports() -> None:
    for name, spec in policies().items():
        for rule in spec.get("egress", []):
            for peer in rule["to"]:
                block = peer.get("ipBlock")
                if block and ipaddress.ip_network(block["cidr"]).prefixlen == 0:
                    assert {port for port, _ in ports_of(rule)} <= {443, 6443}, name


def test_the_frontend_and_the_worker_are_reached_only_as_they_must_be() -> None:
    pods = pod_labels()
    # Nothing calls the worker; the frontend calls nothing but DNS.
    assert list(rules("ingress", pods[up.WORKER])) == []
    assert list(rules("egress", pods[up.FRONTEND])) == policies()["allow-dns"]["egress"]


@pytest.mark.parametrize(
    ("pod", "namespace", "client", "port"),
    [
        (up.API, INGRESS_NAMESPACE, up.INGRESS_CONTROLLER, 8000),
        (up.API_PRIMARY, INGRESS_NAMESPACE, up.INGRESS_CONTROLLER, 8000),
        (up.FRONTEND, INGRESS_NAMESPACE, up.INGRESS_CONTROLLER, 80),
        (up.ACME_SOLVER, INGRESS_NAMESPACE, up.INGRESS_CONTROLLER, 8089),
        (up.API, MONITORING_NAMESPACE, up.PROMETHEUS, 8000),
        (up.API_PRIMARY, MONITORING_NAMESPACE, up.PROMETHEUS, 8000),
        # The probe asks the apex Service (the promoted pods), the smoke check the canary's.
        (up.API_PRIMARY, MONITORING_NAMESPACE, up.BLACKBOX, 8000),
        (up.API, FLAGGER_NAMESPACE, up.LOADTESTER, 8000),
        (up.FRONTEND, MONITORING_NAMESPACE, up.BLACKBOX, 80),
        (up.REDIS_EXPORTER, MONITORING_NAMESPACE, up.PROMETHEUS, 9121),
        (f"{DATABASE_CLUSTER}-1", MONITORING_NAMESPACE, up.PROMETHEUS, 9187),
        (f"{DATABASE_CLUSTER}-1", DATABASE_OPERATOR_NAMESPACE, up.CNPG_OPERATOR, 8000),
        (f"{RESTORE}-2", DATABASE_OPERATOR_NAMESPACE, up.CNPG_OPERATOR, 8000),
    ],
)
def test_pods_of_other_namespaces_reach_what_they_call_and_only_that(
    pod: str, namespace: str, client: str, port: int
) -> None:
    labels = pod_labels()[pod]
    allowed = [rule for rule in rules("ingress", labels) if from_namespace(rule, namespace, outside(client))]
    assert {p for rule in allowed for p, _ in ports_of(rule)} == {port}
    # Their neighbours are not let in: Alertmanager beside Prometheus, the admission job beside
    # the controller, the Barman Cloud plugin beside the operator.
    for neighbour in (up.ALERTMANAGER, up.INGRESS_ADMISSION, up.BARMAN_PLUGIN):
        assert not any(
            from_namespace(rule, namespace, outside(neighbour)) for rule in rules("ingress", labels)
        )


@pytest.mark.parametrize("cluster", [DATABASE_CLUSTER, RESTORE])
def test_cloudnative_pgs_job_pods_reach_the_kubernetes_api(cluster: str) -> None:
    """initdb reads its Cluster before it runs; without this no database is ever created."""
    pods = pod_labels()
    for job in (f"{cluster}-1-{b}-x" for b in ("initdb", "full-recovery")):
        if job not in pods:
            continue
        to_api = [
            rule for rule in rules("egress", pods[job]) if {"ipBlock": {"cidr": "0.0.0.0/0"}} in rule["to"]
        ]
        assert {port for rule in to_api for port, _ in ports_of(rule)} == {443, 6443}, job


@pytest.mark.parametrize(("cluster", "other"), [(DATABASE_CLUSTER, RESTORE), (RESTORE, DATABASE_CLUSTER)])
def test_a_join_job_reaches_its_own_clusters_instances_and_not_the_others(cluster: str, other: str) -> None:
    pods = pod_labels()
    join = pods[f"{cluster}-2-join-x"]
    egress = list(rules("egress", join))
    for serial in (1, 2, 3):
        own, theirs = pods[f"{cluster}-{serial}"], pods[f"{other}-{serial}"]
        assert any(admits(rule, "to", own, (5432, "TCP")) for rule in egress)
        assert not any(admits(rule, "to", theirs, (5432, "TCP")) for rule in egress)
        # ... and the instances let it in.
        assert any(admits(rule, "from", join, (5432, "TCP")) for rule in rules("ingress", own))


def test_the_pooler_reaches_only_the_running_clusters_instances() -> None:
    pods = pod_labels()
    egress = list(rules("egress", pods[up.POOLER]))
    assert any(admits(rule, "to", pods[f"{DATABASE_CLUSTER}-1"], (5432, "TCP")) for rule in egress)
    assert not any(admits(rule, "to", pods[f"{RESTORE}-1"], (5432, "TCP")) for rule in egress)
