"""NetworkPolicies of the app namespace: deny everything, then allow what each workload needs.

Calico (the cluster's network policy provider) enforces them with the standard
NetworkPolicy semantics. Peers are named by pod labels inside the namespace and
by the standard ``kubernetes.io/metadata.name`` label and the pods' own labels
outside it, the labels upstream_pods.py records. What they must allow, and nothing
more, is reachability.py's list; a NetworkPolicy analyzer checks the two against
each other (tests/infra/render/workloads/test_reachability.py).
"""

from __future__ import annotations

from typing import Any

from infra.app_contract import API_PORT, FRONTEND_PORT
from infra.conventions import (
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
from infra.render.database.plan import pooler_name
from infra.render.k8s import dns_ports, namespace_peer, network_policy, ports, rule
from infra.render.workloads import upstream_pods as up
from infra.render.workloads.manifests import meta
from infra.render.workloads.rehearsal import COPY_LABEL

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
    if cluster == "NotIn":
        # A rehearsal's or a drill's copy is apart from a restore beside it (their own policies).
        found["matchExpressions"].append({"key": COPY_LABEL, "operator": "DoesNotExist"})
    return found


def pods(labels: dict[str, str], cluster: str | None = None) -> Rule:
    return {"podSelector": selector(labels, cluster)}


def _from(peer: Rule, *port_numbers: int) -> Rule:
    return rule([peer], ports(*port_numbers), "ingress")


def _to(peers: list[Rule], *port_numbers: int) -> Rule:
    return rule(peers, ports(*port_numbers), "egress")


def pooler_pods(cluster: str) -> dict[str, str]:
    """The pods of the Pooler in front of ``cluster`` (CloudNativePG labels them with its name)."""
    return {"cnpg.io/poolerName": pooler_name(cluster)}


def _database(naming: Naming, to_kube_api: Rule, served: str) -> list[Rule]:
    """CloudNativePG's pods: the API and Object Storage for all, each cluster's own traffic within it.

    After a cut-over (``served`` a restored cluster) the restored cluster's pooler is its client too.
    """
    # Instance managers, initdb, join and full-recovery jobs and the Barman Cloud sidecars all
    # work through the Kubernetes API; the sidecars write to and read from Object Storage (443).
    policies = [network_policy(naming, "database", selector(DATABASE), [], [to_kube_api])]
    operator = namespace_peer(DATABASE_OPERATOR_NAMESPACE, CNPG_OPERATOR)
    for name, cluster in CLUSTERS.items():
        instances, joins = pods(INSTANCES, cluster), pods(JOINS, cluster)
        running = cluster == "In"
        # The app reaches the running cluster through the pooler, and Prometheus scrapes it; a restored
        # cluster that serves the app is reached through its own pooler and scraped too (its PodMonitor).
        serving = served != DATABASE_CLUSTER
        restored = [pods(pooler_pods(served))] if serving else []
        clients = [instances, joins, *([pods(POOLER)] if running else restored)]
        prometheus = namespace_peer(MONITORING_NAMESPACE, PROMETHEUS)
        scraped = [_from(prometheus, up.INSTANCE_METRICS)] if running or serving else []
        # Streaming replication and a new replica's clone; the operator's and the liveness
        # probe's isolation check's calls to the status port.
        admitted = [
            rule(clients, ports(up.POSTGRES), "ingress"),
            rule([operator, instances], ports(up.INSTANCE_STATUS), "ingress"),
            *scraped,
        ]
        replication = _to([instances], up.POSTGRES, up.INSTANCE_STATUS)
        policies += [
            network_policy(
                naming, f"{name}-instances", selector(INSTANCES, cluster), admitted, [replication]
            ),
            # A new replica's join job clones its cluster's primary.
            network_policy(
                naming, f"{name}-join", selector(JOINS, cluster), [], [_to([instances], up.POSTGRES)]
            ),
        ]
    return policies


def _poolers(naming: Naming, app: list[Rule], to_kube_api: Rule, served: str) -> list[Rule]:
    """Each pooler admits the app's pods and reaches its cluster's instances and the Kubernetes API."""
    found = []
    for name, cluster in (("database-pooler", DATABASE_CLUSTER), ("database-restore-pooler", served)):
        if name == "database-restore-pooler" and served == DATABASE_CLUSTER:
            continue
        running = "In" if cluster == DATABASE_CLUSTER else None
        labels = INSTANCES if running else {**INSTANCES, up.CLUSTER_LABEL: cluster}
        found.append(
            network_policy(
                naming,
                name,
                selector(pooler_pods(cluster)),
                [rule(app, ports(up.POSTGRES), "ingress")],
                [_to([pods(labels, running)], up.POSTGRES), to_kube_api],
            )
        )
    return found


def network_policies(naming: Naming, served: str = DATABASE_CLUSTER) -> list[Rule]:
    """The app namespace's policies; ``served``: the cluster the app is served from (a cut-over's)."""

    def policy(
        name: str, labels: dict[str, str], ingress: list[Rule] | None = None, egress: list[Rule] | None = None
    ) -> Rule:
        return network_policy(naming, name, selector(labels), ingress or [], egress or [])

    # The API's pods by their component: the promoted ones Flagger runs and, during a release, its
    # Deployment's (the canary's).
    api = component_selector("api")
    worker, frontend = (meta(naming, s).selector for s in ("worker", "frontend"))
    redis = _to([pods(REDIS_PODS)], REDIS_PORT)
    # The app's pods reach the pooler of the cluster that serves them, and no other.
    to_pooler = _to([pods(pooler_pods(served))], up.POSTGRES)
    to_internet = _to([ANYWHERE], up.HTTPS)
    to_kube_api = _to([ANYWHERE], *up.KUBE_API_PORTS)
    ingress_controller = namespace_peer(INGRESS_NAMESPACE, INGRESS_CONTROLLER)
    prometheus = namespace_peer(MONITORING_NAMESPACE, PROMETHEUS)
    blackbox = namespace_peer(MONITORING_NAMESPACE, BLACKBOX)
    dns = rule([namespace_peer("kube-system")], dns_ports(), "egress")
    return [
        network_policy(naming, "default-deny", {}, [], [], deny=True),
        network_policy(naming, "allow-dns", {}, [], [dns]),
        # The LLM providers are on the internet, over HTTPS.
        policy(
            "api",
            api,
            [_from(ingress_controller, API_PORT), _from(prometheus, API_PORT)],
            [to_pooler, redis, to_internet],
        ),
        # The availability probe asks the apex Service, which selects the promoted pods.
        policy("api-probe", pod_selector(primary_name("api")), [_from(blackbox, API_PORT)]),
        # Flagger's smoke check, from its loadtester to the canary's Service: the release's own pods.
        policy(
            "api-smoke",
            pod_selector(workload_name("api")),
            [_from(namespace_peer(FLAGGER_NAMESPACE, LOADTESTER), API_PORT)],
        ),
        policy("worker", worker, egress=[to_pooler, redis, to_internet]),
        policy(
            "frontend", frontend, [_from(ingress_controller, FRONTEND_PORT), _from(blackbox, FRONTEND_PORT)]
        ),
        policy("redis-exporter", REDIS_EXPORTER, [_from(prometheus, up.REDIS_EXPORTER_PORT)], [redis]),
        *_poolers(naming, [pods(api), pods(worker), pods(MIGRATE)], to_kube_api, served),
        *_database(naming, to_kube_api, served),
        policy("migrate", MIGRATE, egress=[to_pooler, to_kube_api]),
        # Let's Encrypt reaches the solver through the controller; without this, no certificate.
        policy("acme-http01-solver", ACME_SOLVER, [_from(ingress_controller, up.ACME_SOLVER_PORT)]),
        # Redis has no password (the app cannot send one): only these pods may connect.
        policy(
            "redis",
            REDIS_PODS,
            [rule([pods(api), pods(worker), pods(REDIS_EXPORTER)], ports(REDIS_PORT), "ingress")],
        ),
    ]
