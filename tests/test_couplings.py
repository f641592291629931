"""Every coupling resolves: each selector, reference and job matcher finds what it names, in both stacks.

Two objects that must agree (a Service and its pods, a monitor and its
Service's port, a Probe's job and the alerts on it, a NetworkPolicy and its
pods and peers, an ExternalSecret and its readers) take the name from
``infra/conventions.py``; these tests resolve every such reference against
the synthesized objects, so a side that spells its own name fails here.

Pods that operators and charts create are not in the synthesized objects;
``pods`` adds them with the labels their makers document:
CloudNativePG's instance and job pods of each cluster (and of a recovery
cluster a restore may add), Prometheus, the ingress controller and others as
``infra/render/workloads/upstream_pods.py`` records them with their sources;
pooler pods carry ``cnpg.io/poolerName``; the prometheus-community,
ingress-nginx, cert-manager and external-secrets charts label their pods
``app.kubernetes.io/name: <chart>`` and ``app.kubernetes.io/instance: <release>``;
cert-manager starts HTTP-01 solver pods (``acme.cert-manager.io/http01-solver``,
port 8089) beside an Ingress it issues a certificate for. Flagger's objects
(the promoted Deployment, the API's three Services, the promoted autoscaler and
the canary Ingress) are derived from each synthesized Canary and the objects
it names, as ``infra/render/workloads/flagger_made.py`` records Flagger's code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

from infra.conventions import APP_NAMESPACE, Naming
from infra.ops.synth.runner import Synthesis
from infra.ops.synth.writer import is_kubernetes_object
from infra.render.charts import PUSHGATEWAY
from infra.render.workloads import drill, rehearsal, upstream_pods
from infra.render.workloads.flagger_made import made_by_flagger
from tests.conftest import STACKS

Synth = Callable[[str], Synthesis]
Manifest = dict[str, Any]
RELEASE = "kubernetes:helm.sh/v3:Release"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job")
# Every cluster has it; its pods (DNS) are the managed control plane's, not ours to list.
SYSTEM_NAMESPACE = "kube-system"
# A recovery cluster beside the running one, named as the restore command names one.
RESTORE_CLUSTER = "samokoder-db-restore-20260101-0000"


@dataclass(frozen=True)
class Pod:
    """The pods of one workload, as far as their labels and named ports go."""

    namespace: str
    owner: str
    labels: dict[str, str]
    ports: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Objects:
    manifests: list[Manifest]
    releases: list[dict[str, Any]]

    def of_kind(self, kind: str) -> list[Manifest]:
        return [m for m in self.manifests if m["kind"] == kind]

    def namespaces(self) -> set[str]:
        return {m["metadata"]["name"] for m in self.of_kind("Namespace")}


def objects_of(synthesis: Synthesis) -> Objects:
    manifests = [r.inputs for r in synthesis.deployed() if is_kubernetes_object(r)]
    releases = [r.inputs for r in synthesis.of_type(RELEASE)]
    return Objects([*manifests, *flaggers(manifests)], releases)


def flaggers(manifests: list[Manifest]) -> list[Manifest]:
    """What Flagger makes from each Canary and the Deployment, autoscaler and Ingress it names."""

    def named(kind: str, namespace: str, name: str) -> Manifest:
        (found,) = (
            m
            for m in manifests
            if (m["kind"], namespace_of(m), m["metadata"]["name"]) == (kind, namespace, name)
        )
        return found

    made: list[Manifest] = []
    for canary in (m for m in manifests if m["kind"] == "Canary"):
        home, spec = namespace_of(canary), canary["spec"]
        made += made_by_flagger(
            canary,
            named("Deployment", home, spec["targetRef"]["name"]),
            named("HorizontalPodAutoscaler", home, spec["autoscalerRef"]["name"]),
            named("Ingress", home, spec["ingressRef"]["name"]),
        )
    return made


def namespace_of(manifest: Manifest) -> str:
    return str(manifest["metadata"].get("namespace", ""))


def pods(objects: Objects) -> list[Pod]:
    found: list[Pod] = []
    for workload in (m for m in objects.manifests if m["kind"] in WORKLOAD_KINDS):
        template = workload["spec"]["template"]
        ports = {
            port["name"]: int(port["containerPort"])
            for container in template["spec"]["containers"]
            for port in container.get("ports", [])
            if "name" in port
        }
        owner = f"{workload['kind']}/{workload['metadata']['name']}"
        found.append(Pod(namespace_of(workload), owner, template["metadata"]["labels"], ports))
    found += operated_pods(objects)
    for pooler in objects.of_kind("Pooler"):
        name = pooler["metadata"]["name"]
        found.append(Pod(namespace_of(pooler), f"Pooler/{name}", {"cnpg.io/poolerName": name}))
    for ingress in objects.of_kind("Ingress"):
        if "cert-manager.io/cluster-issuer" in ingress["metadata"].get("annotations", {}):
            solver = {"acme.cert-manager.io/http01-solver": "true"}
            found.append(Pod(namespace_of(ingress), "cert-manager/http01-solver", solver, {"http": 8089}))
    for release in objects.releases:
        labels = {"app.kubernetes.io/name": release["chart"], "app.kubernetes.io/instance": release["name"]}
        found.append(Pod(release["namespace"], f"release/{release['name']}", labels))
    return found


def operated_pods(objects: Objects) -> list[Pod]:
    """Pods operators and charts make, as infra/render/workloads/upstream_pods.py labels them.

    CloudNativePG's instances and job pods (a replica's join too) of each Cluster, of a recovery
    cluster the restore command may create beside the running one and of the migration rehearsal's
    copy (with the rehearsal's Job); Prometheus, the ingress
    controller and the other pods the policies name.
    """
    found: list[Pod] = []
    clusters = [(c["metadata"]["name"], namespace_of(c), "initdb") for c in objects.of_kind("Cluster")]
    copies = {rehearsal.copy_name("b2c3d4", "9f8e7d"): rehearsal.COPY, drill.copy_name("9f8e7d"): drill.COPY}
    restored = [(name, APP_NAMESPACE, "full-recovery") for name in (RESTORE_CLUSTER, *copies)]
    for name, home, bootstrap in [*clusters, *restored]:
        inherited = copies.get(name)
        for workload in upstream_pods.database_workloads(name, 2, bootstrap, inherited):
            for pod, labels in workload.pods:
                metrics = {"metrics": 9187} if "cnpg.io/podRole" in labels else {}
                found.append(Pod(home, f"Cluster/{name}/{pod}", dict(labels), metrics))
    # The rehearsal's Job, which the deploy job creates beside its copy.
    job = rehearsal.rehearsal_job(Naming("staging"), "b2c3d4", "9f8e7d", "image")
    found.append(Pod(APP_NAMESPACE, "Job/migration-rehearsal", job["spec"]["template"]["metadata"]["labels"]))
    for workload in upstream_pods.cluster_workloads():
        for pod, labels in workload.pods:
            found.append(Pod(workload.namespace, f"{workload.name}/{pod}", dict(labels)))
    return found


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def selected(objects: Objects, namespace: str, selector: dict[str, str]) -> list[Pod]:
    return [p for p in pods(objects) if p.namespace == namespace and selects(selector, p.labels)]


def matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A LabelSelector: matchLabels and the In/NotIn/Exists/DoesNotExist matchExpressions."""
    if not selects(selector.get("matchLabels", {}), labels):
        return False
    for expression in selector.get("matchExpressions", []):
        value, values = labels.get(expression["key"]), expression.get("values", [])
        holds = {
            "In": value in values,
            "NotIn": value not in values,
            "Exists": value is not None,
            "DoesNotExist": value is None,
        }
        if not holds[expression["operator"]]:
            return False
    return True


def chosen(objects: Objects, namespace: str, selector: dict[str, Any]) -> list[Pod]:
    return [p for p in pods(objects) if p.namespace == namespace and matches(selector, p.labels)]


@pytest.fixture(params=STACKS)
def objects(request: pytest.FixtureRequest, synthesized: Synth) -> Objects:
    return objects_of(synthesized(request.param))


def test_every_service_selects_pods_that_have_its_target_ports(objects: Objects) -> None:
    services = objects.of_kind("Service")
    assert services
    for service in services:
        name = service["metadata"]["name"]
        chosen = selected(objects, namespace_of(service), service["spec"]["selector"])
        assert chosen, f"Service {name} selects no pod"
        for port in service["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            if isinstance(target, str):
                missing = [p.owner for p in chosen if target not in p.ports]
                assert not missing, f"Service {name} targets port {target!r}, which {missing} do not name"


def test_every_disruption_budget_covers_the_pods_of_one_workload(objects: Objects) -> None:
    budgets = objects.of_kind("PodDisruptionBudget")
    assert budgets
    for budget in budgets:
        chosen = selected(objects, namespace_of(budget), budget["spec"]["selector"]["matchLabels"])
        owners = [p.owner for p in chosen]
        assert len(owners) == 1, f"PodDisruptionBudget {budget['metadata']['name']} selects {owners}"


def peers(policy: Manifest) -> Iterator[dict[str, Any]]:
    for rule in policy["spec"].get("ingress", []):
        yield from rule.get("from", [])
    for rule in policy["spec"].get("egress", []):
        yield from rule.get("to", [])


def test_every_network_policy_selects_pods_and_every_peer_exists(objects: Objects) -> None:
    policies = objects.of_kind("NetworkPolicy")
    assert policies
    namespaces = objects.namespaces()
    for policy in policies:
        name, home = policy["metadata"]["name"], namespace_of(policy)
        own = policy["spec"]["podSelector"]
        assert chosen(objects, home, own), f"NetworkPolicy {name} selects no pod: {own}"
        for peer in peers(policy):
            if "ipBlock" in peer:
                continue
            where: str | None = home
            if peer.get("namespaceSelector") == {}:
                where = None  # every namespace: the pods alone pick the peer
            elif "namespaceSelector" in peer:
                labels = peer["namespaceSelector"]["matchLabels"]
                where = labels["kubernetes.io/metadata.name"]
                assert where in namespaces | {SYSTEM_NAMESPACE}, (
                    f"NetworkPolicy {name}: no namespace {where!r}"
                )
            if "podSelector" in peer and where != SYSTEM_NAMESPACE:
                wanted = peer["podSelector"]
                found = [
                    p for p in pods(objects) if where in (None, p.namespace) and matches(wanted, p.labels)
                ]
                assert found, f"NetworkPolicy {name}: no pod in {where or 'any namespace'} is {wanted}"


def test_every_service_monitor_finds_a_service_with_its_port(objects: Objects) -> None:
    monitors = objects.of_kind("ServiceMonitor")
    assert monitors
    for monitor in monitors:
        spec, name = monitor["spec"], monitor["metadata"]["name"]
        wanted = spec["namespaceSelector"].get("matchNames", [namespace_of(monitor)])
        services = [
            s
            for s in objects.of_kind("Service")
            if namespace_of(s) in wanted and selects(spec["selector"]["matchLabels"], s["metadata"]["labels"])
        ]
        assert services, f"ServiceMonitor {name} selects no Service"
        for endpoint in spec["endpoints"]:
            names = {p.get("name") for s in services for p in s["spec"]["ports"]}
            assert endpoint["port"] in names, f"ServiceMonitor {name} scrapes port {endpoint['port']!r}"


def test_every_pod_monitor_finds_pods_with_its_port(objects: Objects) -> None:
    monitors = objects.of_kind("PodMonitor")
    assert monitors
    for monitor in monitors:
        name = monitor["metadata"]["name"]
        chosen = selected(objects, namespace_of(monitor), monitor["spec"]["selector"]["matchLabels"])
        assert chosen, f"PodMonitor {name} selects no pod"
        for endpoint in monitor["spec"]["podMetricsEndpoints"]:
            assert all(endpoint["port"] in p.ports for p in chosen), f"PodMonitor {name}: {endpoint['port']}"


def service_address(objects: Objects, url: str) -> tuple[str, str, int]:
    """`<service>.<namespace>.svc[:port]` of a URL, checked to be a Service that has the port."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    host = parts.hostname or ""
    service, namespace, suffix = host.split(".", 2)
    assert suffix == "svc", f"{url} is not a cluster Service address"
    return service, namespace, parts.port or 80


def test_every_probe_reaches_its_prober_and_targets_through_services(objects: Objects) -> None:
    probes = objects.of_kind("Probe")
    assert probes
    for probe in probes:
        spec = probe["spec"]
        targets = [spec["prober"]["url"], *spec["targets"]["staticConfig"]["static"]]
        for url in targets:
            service, namespace, port = service_address(objects, url)
            made_by_release = [
                r
                for r in objects.releases
                if r["namespace"] == namespace and service == f"{r['name']}-{r['chart']}"
            ]
            if made_by_release:
                continue
            matching = [
                s
                for s in objects.of_kind("Service")
                if s["metadata"]["name"] == service and namespace_of(s) == namespace
            ]
            assert matching, f"Probe target {url}: no Service {service} in {namespace}"
            assert port in {int(p["port"]) for p in matching[0]["spec"]["ports"]}, f"{url}: no port {port}"


JOB = re.compile(r'job\s*=\s*"([^"]+)"')


def queries(objects: Objects) -> Iterator[tuple[str, str]]:
    """(where, PromQL) of every rule and every dashboard panel target."""
    for rule_object in objects.of_kind("PrometheusRule"):
        for group in rule_object["spec"]["groups"]:
            for rule in group["rules"]:
                yield f"{rule.get('alert') or rule.get('record')}", rule["expr"]
    for config_map in objects.of_kind("ConfigMap"):
        for key, text in config_map.get("data", {}).items():
            if key.endswith(".json"):
                for panel in json.loads(text).get("panels", []):
                    for target in panel.get("targets", []):
                        yield f"{key}: {panel.get('title')}", target.get("expr", "")


def scrape_jobs(objects: Objects) -> set[str]:
    jobs = {p["spec"]["jobName"] for p in objects.of_kind("Probe")}
    for monitor in objects.of_kind("ServiceMonitor"):
        for endpoint in monitor["spec"]["endpoints"]:
            for relabel in endpoint.get("relabelings", []):
                if relabel.get("targetLabel") == "job":
                    jobs.add(relabel["replacement"])
    # The Pushgateway's chart-made monitor honours the pushed labels (serviceMonitor.honorLabels): the
    # job the restore drill pushes under (drill.push_path) is the job Prometheus stores.
    for release in objects.releases:
        monitor = release["values"].get("serviceMonitor", {})
        if release["chart"] == PUSHGATEWAY.name and monitor.get("enabled") and monitor.get("honorLabels"):
            jobs.add(re.search(r"/metrics/job/([^/]+)", drill.push_path("any", None))[1])  # type: ignore[index]
    return jobs


def test_every_job_a_rule_or_panel_selects_is_set_by_a_monitor_or_probe(objects: Objects) -> None:
    jobs = scrape_jobs(objects)
    read = [(where, job) for where, expr in queries(objects) for job in JOB.findall(expr)]
    assert read, "no rule or panel selects a job: the check would prove nothing"
    unknown = sorted({(where, job) for where, job in read if job not in jobs})
    assert not unknown, f"selected jobs no ServiceMonitor or Probe sets ({sorted(jobs)}): {unknown}"


def secret_references(manifest: Manifest) -> Iterator[str]:
    """Names of the Secrets a workload's pods read (env, envFrom, volumes)."""
    pod = manifest["spec"]["template"]["spec"]
    for container in [*pod.get("initContainers", []), *pod["containers"]]:
        for source in container.get("envFrom", []):
            if "secretRef" in source:
                yield source["secretRef"]["name"]
        for variable in container.get("env", []):
            reference = variable.get("valueFrom", {}).get("secretKeyRef")
            if reference:
                yield reference["name"]
    for volume in pod.get("volumes", []):
        if "secret" in volume:
            yield volume["secret"]["secretName"]


def test_every_secret_a_pod_reads_is_delivered_and_every_delivered_secret_is_read(objects: Objects) -> None:
    delivered = {
        (namespace_of(e), e["spec"]["target"]["name"]) for e in objects.of_kind("ExternalSecret")
    } | {(namespace_of(s), s["metadata"]["name"]) for s in objects.of_kind("Secret")}
    read = {
        (namespace_of(w), name)
        for w in objects.manifests
        if w["kind"] in WORKLOAD_KINDS
        for name in secret_references(w)
    }
    assert read
    assert read <= delivered, f"pods read Secrets nobody delivers: {sorted(read - delivered)}"
    # A delivered Secret is read by a pod, a chart's values, a CloudNativePG object or a store.
    elsewhere = json.dumps([r["values"] for r in objects.releases]) + json.dumps(
        [
            m["spec"]
            for m in objects.manifests
            if m["kind"] in ("Cluster", "ObjectStore", "ClusterSecretStore")
        ]
    )
    unread = [
        (namespace, name) for namespace, name in sorted(delivered - read) if f'"{name}"' not in elsewhere
    ]
    assert not unread, f"Secrets delivered that nothing reads: {unread}"


def test_every_ingress_backend_is_a_service_port(objects: Objects) -> None:
    ingresses = objects.of_kind("Ingress")
    assert ingresses
    for ingress in ingresses:
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                (service,) = [
                    s
                    for s in objects.of_kind("Service")
                    if s["metadata"]["name"] == backend["name"] and namespace_of(s) == namespace_of(ingress)
                ]
                numbers = {int(p["port"]) for p in service["spec"]["ports"]}
                assert int(backend["port"]["number"]) in numbers, f"{path['path']} -> {backend}"


def test_every_autoscaler_scales_a_deployment_and_every_config_map_read_exists(objects: Objects) -> None:
    names = {(namespace_of(d), d["metadata"]["name"]) for d in objects.of_kind("Deployment")}
    for autoscaler in objects.of_kind("HorizontalPodAutoscaler"):
        target = autoscaler["spec"]["scaleTargetRef"]
        assert target["kind"] == "Deployment"
        assert (namespace_of(autoscaler), target["name"]) in names
    maps = {(namespace_of(c), c["metadata"]["name"]) for c in objects.of_kind("ConfigMap")}
    for workload in (m for m in objects.manifests if m["kind"] in WORKLOAD_KINDS):
        for container in workload["spec"]["template"]["spec"]["containers"]:
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    assert (namespace_of(workload), source["configMapRef"]["name"]) in maps
