"""NetworkPolicies of the app namespace: deny everything, then allow what each workload needs.

Calico (the cluster's network policy provider) enforces them with the standard
NetworkPolicy semantics. Peers are named by pod labels inside the namespace and
by the standard ``kubernetes.io/metadata.name`` label and the pods' own labels
outside it. Pods are named by the labels upstream_pods.py records. What they must allow,
and nothing more, is reachability.py's list;
a NetworkPolicy analyzer checks the two against each other
(tests/infra/render/workloads/test_reachability.py).
"""

from __future__ import annotations

from typing import Any

from infra.app_contract import API_PORT, FRONTEND_PORT
from infra.conventions import (
    APP_NAMESPACE,
    DATABASE_CLUSTER,
    DATABASE_OPERATOR_NAMESPACE,
    FLAGGER_NAMESPACE,
    INGRESS_NAMESPACE,
    MIGRATION,
    MONITORING_NAMESPACE,
    NAME_LABEL,
    REDIS,
    REDIS_PORT,
    Naming,
    component_selector,
    pod_selector,
    primary_name,
    workload_name,
)
from infra.render import flagger
from infra.render.workloads import upstream_pods as up
from infra.render.workloads.manifests import meta

MIGRATE = {NAME_LABEL: MIGRATION}
POOLER = {"cnpg.io/poolerName": up.POOLER}
# Every CloudNativePG instance and job pod of every cluster in the namespace, and the instances alone.
DATABASE = dict(up.CNPG_DATABASE)
INSTANCES = {**DATABASE, up.POD_ROLE: "instance"}
JOINS = {**DATABASE, up.JOB_ROLE: "join"}
ANYWHERE = {"ipBlock": {"cidr": "0.0.0.0/0"}}
REDIS_EXPORTER = {NAME_LABEL: up.REDIS_EXPORTER_LABELS[NAME_LABEL]}
REDIS_PODS = pod_selector(REDIS)
ACME_SOLVER = dict(up.ACME_SOLVER_LABEL)
# Pods of other namespaces, by the labels their makers set (upstream_pods.py names the sources).
INGRESS_CONTROLLER = {k: up.INGRESS_CONTROLLER_LABELS[k] for k in (up.NAME, up.INSTANCE, up.COMPONENT)}
PROMETHEUS = {k: up.PROMETHEUS_LABELS[k] for k in (up.NAME, "operator.prometheus.io/name")}
BLACKBOX = {k: up.BLACKBOX_LABELS[k] for k in (up.NAME, up.INSTANCE)}
CNPG_OPERATOR = dict(up.CNPG_OPERATOR_LABELS)
LOADTESTER = dict(flagger.LOADTESTER_POD_LABELS)
# The running cluster's pods, and those of a recovery cluster beside it, whatever the restore named it.
CLUSTERS = {"database": "In", "database-restore": "NotIn"}

Rule = dict[str, Any]


def selector(labels: dict[str, str], cluster: str | None = None) -> Rule:
    """A label selector; ``cluster`` (In or NotIn) picks the running cluster's pods or the others'."""
    found: Rule = {"matchLabels": labels} if labels else {}
    if cluster:
        found["matchExpressions"] = [
            {"key": up.CLUSTER_LABEL, "operator": cluster, "values": [DATABASE_CLUSTER]}
        ]
    return found


def pods(labels: dict[str, str], cluster: str | None = None) -> Rule:
    return {"podSelector": selector(labels, cluster)}


def namespace(name: str, labels: dict[str, str] | None = None) -> Rule:
    peer: Rule = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}
    if labels is not None:
        peer["podSelector"] = {"matchLabels": labels}
    return peer


def ports(*numbers: int, protocol: str = "TCP") -> list[Rule]:
    return [{"port": number, "protocol": protocol} for number in numbers]


def rule(peers: list[Rule], port_list: list[Rule], direction: str) -> Rule:
    return {("from" if direction == "ingress" else "to"): peers, "ports": port_list}


def _policy(
    naming: Naming, name: str, chosen: Rule, ingress: list[Rule], egress: list[Rule], *, deny: bool = False
) -> Rule:
    """A policy of the directions it has rules for; ``deny``: both directions, no rules (deny all)."""
    types = [t for t, rules in (("Ingress", ingress), ("Egress", egress)) if rules or deny]
    spec: Rule = {"podSelector": chosen, "policyTypes": types}
    if ingress:
        spec["ingress"] = ingress
    if egress:
        spec["egress"] = egress
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": name,
            "namespace": APP_NAMESPACE,
            "labels": naming.k8s_labels(name, "network-policy"),
        },
        "spec": spec,
    }


def _from(peer: Rule, *port_numbers: int) -> Rule:
    return rule([peer], ports(*port_numbers), "ingress")


def _database(naming: Naming, to_kube_api: Rule) -> list[Rule]:
    """CloudNativePG's pods: the API and Object Storage for all, each cluster's own traffic within it."""
    # Instance managers, initdb, join and full-recovery jobs and the Barman Cloud sidecars all
    # work through the Kubernetes API; the sidecars write to and read from Object Storage (443).
    policies = [_policy(naming, "database", selector(DATABASE), [], [to_kube_api])]
    operator = namespace(DATABASE_OPERATOR_NAMESPACE, CNPG_OPERATOR)
    for name, cluster in CLUSTERS.items():
        instances, joins = pods(INSTANCES, cluster), pods(JOINS, cluster)
        running = cluster == "In"
        # The app reaches the running cluster through the pooler, and Prometheus scrapes it.
        clients = [instances, joins, *([pods(POOLER)] if running else [])]
        scraped = [_from(namespace(MONITORING_NAMESPACE, PROMETHEUS), up.INSTANCE_METRICS)] if running else []
        policies += [
            # Streaming replication and a new replica's clone; the operator's and the liveness
            # probe's isolation check's calls to the status port.
            _policy(
                naming,
                f"{name}-instances",
                selector(INSTANCES, cluster),
                [
                    rule(clients, ports(up.POSTGRES), "ingress"),
                    rule([operator, instances], ports(up.INSTANCE_STATUS), "ingress"),
                    *scraped,
                ],
                [rule([instances], ports(up.POSTGRES, up.INSTANCE_STATUS), "egress")],
            ),
            # A new replica's join job clones its cluster's primary.
            _policy(
                naming,
                f"{name}-join",
                selector(JOINS, cluster),
                [],
                [rule([instances], ports(up.POSTGRES), "egress")],
            ),
        ]
    return policies


def network_policies(naming: Naming) -> list[Rule]:
    # The API's pods by their component: the promoted ones Flagger runs and, during a release, its
    # Deployment's (the canary's).
    api = component_selector("api")
    worker, frontend = (meta(naming, s).selector for s in ("worker", "frontend"))
    redis = rule([pods(REDIS_PODS)], ports(REDIS_PORT), "egress")
    to_pooler = rule([pods(POOLER)], ports(up.POSTGRES), "egress")
    to_internet = rule([ANYWHERE], ports(up.HTTPS), "egress")
    to_kube_api = rule([ANYWHERE], ports(*up.KUBE_API_PORTS), "egress")
    ingress_controller = namespace(INGRESS_NAMESPACE, INGRESS_CONTROLLER)
    prometheus = namespace(MONITORING_NAMESPACE, PROMETHEUS)
    blackbox = namespace(MONITORING_NAMESPACE, BLACKBOX)
    dns = rule(
        [namespace("kube-system")], [*ports(up.DNS_PORT, protocol="UDP"), *ports(up.DNS_PORT)], "egress"
    )
    policies = [
        _policy(naming, "default-deny", {}, [], [], deny=True),
        _policy(naming, "allow-dns", {}, [], [dns]),
        _policy(
            naming,
            "api",
            selector(api),
            [_from(ingress_controller, API_PORT), _from(prometheus, API_PORT)],
            # The LLM providers are on the internet, over HTTPS.
            [to_pooler, redis, to_internet],
        ),
        # The availability probe asks the apex Service, which selects the promoted pods.
        _policy(
            naming, "api-probe", selector(pod_selector(primary_name("api"))), [_from(blackbox, API_PORT)], []
        ),
        # Flagger's smoke check, from its loadtester to the canary's Service: the release's own pods.
        _policy(
            naming,
            "api-smoke",
            selector(pod_selector(workload_name("api"))),
            [_from(namespace(FLAGGER_NAMESPACE, LOADTESTER), API_PORT)],
            [],
        ),
        _policy(naming, "worker", selector(worker), [], [to_pooler, redis, to_internet]),
        _policy(
            naming,
            "frontend",
            selector(frontend),
            [_from(ingress_controller, FRONTEND_PORT), _from(blackbox, FRONTEND_PORT)],
            [],
        ),
        _policy(
            naming,
            "redis-exporter",
            selector(REDIS_EXPORTER),
            [_from(prometheus, up.REDIS_EXPORTER_PORT)],
            [redis],
        ),
        _policy(
            naming,
            "database-pooler",
            selector(POOLER),
            [rule([pods(api), pods(worker), pods(MIGRATE)], ports(up.POSTGRES), "ingress")],
            [rule([pods(INSTANCES, "In")], ports(up.POSTGRES), "egress"), to_kube_api],
        ),
        *_database(naming, to_kube_api),
        _policy(naming, "migrate", selector(MIGRATE), [], [to_pooler, to_kube_api]),
        # Let's Encrypt reaches the solver through the controller; without this, no certificate.
        _policy(
            naming,
            "acme-http01-solver",
            selector(ACME_SOLVER),
            [_from(ingress_controller, up.ACME_SOLVER_PORT)],
            [],
        ),
        # Redis has no password (the app cannot send one): only these pods may connect.
        _policy(
            naming,
            "redis",
            selector(REDIS_PODS),
            [rule([pods(api), pods(worker), pods(REDIS_EXPORTER)], ports(REDIS_PORT), "ingress")],
            [],
        ),
    ]
    return policies
