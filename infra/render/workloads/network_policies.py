"""NetworkPolicies of the app namespace: deny everything, then allow what each workload needs.

Calico (the cluster's network policy provider) enforces them. Peers are
named by pod labels inside the namespace and by the standard
``kubernetes.io/metadata.name`` label outside it.
"""

from __future__ import annotations

from typing import Any

from infra.app_contract import API_PORT, FRONTEND_PORT
from infra.conventions import (
    APP_NAMESPACE,
    DATABASE_CLUSTER,
    DATABASE_OPERATOR_NAMESPACE,
    INGRESS_NAMESPACE,
    MIGRATION,
    MONITORING_NAMESPACE,
    NAME_LABEL,
    REDIS,
    REDIS_PORT,
    REDIS_TLS_PORT,
    Naming,
    component_selector,
    pod_selector,
)
from infra.render import charts
from infra.render.database import plan as db
from infra.render.workloads.manifests import meta

HTTPS = 443
KUBE_API_PORTS = (443, 6443)
POSTGRES = 5432
POSTGRES_METRICS = 9187
POOLER_METRICS = 9127
INSTANCE_STATUS = 8000
MIGRATE = {NAME_LABEL: MIGRATION}
INSTANCES = {"cnpg.io/cluster": DATABASE_CLUSTER, "cnpg.io/podRole": "instance"}
POOLER = {"cnpg.io/poolerName": db.POOLER}
ANYWHERE = {"ipBlock": {"cidr": "0.0.0.0/0"}}
# The chart labels its pods with its own name.
REDIS_EXPORTER = {NAME_LABEL: charts.REDIS_EXPORTER.name}
REDIS_EXPORTER_PORT = 9121
REDIS_PODS = pod_selector(REDIS)
# cert-manager's HTTP-01 solver: the pods it starts beside an Ingress for a challenge
# (cert-manager: its SolverIdentificationLabelKey; the solver listens on 8089).
ACME_SOLVER = {"acme.cert-manager.io/http01-solver": "true"}
ACME_SOLVER_PORT = 8089

Rule = dict[str, Any]


def pods(labels: dict[str, str]) -> Rule:
    return {"podSelector": {"matchLabels": labels}}


def namespace(name: str) -> Rule:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}


def ports(*numbers: int, protocol: str = "TCP") -> list[Rule]:
    return [{"port": number, "protocol": protocol} for number in numbers]


def rule(peers: list[Rule], port_list: list[Rule], direction: str) -> Rule:
    return {("from" if direction == "ingress" else "to"): peers, "ports": port_list}


def _policy(
    naming: Naming, name: str, selector: dict[str, str], ingress: list[Rule], egress: list[Rule]
) -> Rule:
    types = [t for t, rules in (("Ingress", ingress), ("Egress", egress)) if rules]
    spec: Rule = {"podSelector": {"matchLabels": selector} if selector else {}, "policyTypes": types}
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


def scraped_on(*port_numbers: int) -> Rule:
    """Prometheus (and the blackbox exporter) reach these ports from the monitoring namespace."""
    return rule([namespace(MONITORING_NAMESPACE)], ports(*port_numbers), "ingress")


def network_policies(naming: Naming, vpc_cidr: str, *, redis_in_cluster: bool) -> list[Rule]:
    # The API's pods by their component: stable's and, during a release, the canary's.
    api = component_selector("api")
    worker, frontend = (meta(naming, s).selector for s in ("worker", "frontend"))
    if redis_in_cluster:
        redis = rule([pods(REDIS_PODS)], ports(REDIS_PORT), "egress")
    else:
        redis = rule([{"ipBlock": {"cidr": vpc_cidr}}], ports(REDIS_TLS_PORT), "egress")
    to_pooler = rule([pods(POOLER)], ports(POSTGRES), "egress")
    to_internet = rule([ANYWHERE], ports(HTTPS), "egress")
    to_kube_api = rule([ANYWHERE], ports(*KUBE_API_PORTS), "egress")
    deny_all = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": "default-deny",
            "namespace": APP_NAMESPACE,
            "labels": naming.k8s_labels("default-deny", "network-policy"),
        },
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }
    dns = _policy(
        naming,
        "allow-dns",
        {},
        [],
        [rule([namespace("kube-system")], [*ports(53, protocol="UDP"), *ports(53)], "egress")],
    )
    policies = [
        deny_all,
        dns,
        _policy(
            naming,
            "api",
            api,
            [rule([namespace(INGRESS_NAMESPACE)], ports(API_PORT), "ingress"), scraped_on(API_PORT)],
            # The LLM providers are on the internet, over HTTPS.
            [to_pooler, redis, to_internet],
        ),
        _policy(naming, "worker", worker, [], [to_pooler, redis, to_internet]),
        _policy(
            naming,
            "frontend",
            frontend,
            # The blackbox exporter probes the site from the monitoring namespace.
            [
                rule([namespace(INGRESS_NAMESPACE)], ports(FRONTEND_PORT), "ingress"),
                scraped_on(FRONTEND_PORT),
            ],
            [],
        ),
        _policy(naming, "redis-exporter", REDIS_EXPORTER, [scraped_on(REDIS_EXPORTER_PORT)], [redis]),
        _policy(
            naming,
            "database-pooler",
            POOLER,
            [
                rule([pods(api), pods(worker), pods(MIGRATE)], ports(POSTGRES), "ingress"),
                scraped_on(POOLER_METRICS),
            ],
            [rule([pods(INSTANCES)], ports(POSTGRES), "egress"), to_kube_api],
        ),
        _policy(
            naming,
            "database-instances",
            INSTANCES,
            [
                # The pooler, and the other instances (streaming replication, rejoin).
                rule([pods(POOLER), pods(INSTANCES)], ports(POSTGRES), "ingress"),
                rule([namespace(DATABASE_OPERATOR_NAMESPACE)], ports(INSTANCE_STATUS), "ingress"),
                scraped_on(POSTGRES_METRICS),
            ],
            # Replication, and HTTPS to Object Storage (backups) and the Kubernetes API.
            [rule([pods(INSTANCES)], ports(POSTGRES), "egress"), to_kube_api],
        ),
        _policy(naming, "migrate", MIGRATE, [], [to_pooler, to_kube_api]),
        # Let's Encrypt reaches the solver through the controller; without this, no certificate.
        _policy(
            naming,
            "acme-http01-solver",
            ACME_SOLVER,
            [rule([namespace(INGRESS_NAMESPACE)], ports(ACME_SOLVER_PORT), "ingress")],
            [],
        ),
    ]
    if redis_in_cluster:
        # Redis has no password (the app cannot send one): only these pods may connect.
        clients = [pods(api), pods(worker), pods(REDIS_EXPORTER)]
        policies.append(
            _policy(naming, "redis", REDIS_PODS, [rule(clients, ports(REDIS_PORT), "ingress")], [])
        )
    return policies
