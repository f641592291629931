"""The composition: Redis in the app's namespace reaches the app, and the site's address and name agree.

The app connects to Redis without a password or TLS, so Redis runs in the
app's namespace and its NetworkPolicy is the only fence.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from infra import app_contract as app
from infra.conventions import APP_SECRET, CONFIG_MAP, NAME_LABEL, REDIS, REDIS_PORT
from infra.ops.synth.mocks import UNKNOWN_MARK
from infra.ops.synth.runner import Synthesis, synthesize
from infra.ops.synth.writer import is_kubernetes_object
from infra.render import charts
from tests.conftest import PROJECT_DIR, STACKS
from tests.variants import synthesize_variant

Synth = Callable[[str], Synthesis]
Manifest = dict[str, Any]
Labels = dict[str, str]
RELEASE = "kubernetes:helm.sh/v3:Release"
APP_PODS = {"samokoder-api", "samokoder-worker", "samokoder-redis-exporter"}


def manifests(synthesis: Synthesis, kind: str) -> list[Manifest]:
    return [r.inputs for r in synthesis.deployed() if is_kubernetes_object(r) and r.inputs["kind"] == kind]


def named(synthesis: Synthesis, kind: str, name: str) -> Manifest:
    (found,) = (m for m in manifests(synthesis, kind) if m["metadata"]["name"] == name)
    return found


def exporter_values(synthesis: Synthesis) -> dict[str, Any]:
    (release,) = (r for r in synthesis.of_type(RELEASE) if r.inputs["chart"] == charts.REDIS_EXPORTER.name)
    values: dict[str, Any] = release.inputs["values"]
    return values


def app_secret(synthesis: Synthesis) -> dict[str, Any]:
    (external,) = (
        m for m in manifests(synthesis, "ExternalSecret") if m["spec"]["target"]["name"] == APP_SECRET
    )
    spec: dict[str, Any] = external["spec"]
    return spec


def selects(selector: Labels, labels: Labels) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def pods_of_the_namespace(synthesis: Synthesis, namespace: str) -> dict[str, Labels]:
    """Every pod template of the namespace by owner, and the charts' pods by their documented labels."""
    pods = {
        f"{m['kind']}/{m['metadata']['name']}": m["spec"]["template"]["metadata"]["labels"]
        for kind in ("Deployment", "StatefulSet", "Job")
        for m in manifests(synthesis, kind)
        if m["metadata"]["namespace"] == namespace
    }
    for release in synthesis.of_type(RELEASE):
        if release.inputs["namespace"] == namespace:
            labels = {
                NAME_LABEL: release.inputs["chart"],
                "app.kubernetes.io/instance": release.inputs["name"],
            }
            pods[f"release/{release.inputs['name']}"] = labels
    return pods


def let_in(synthesis: Synthesis, pods: Labels, namespace: str, port: int) -> set[str]:
    """The pods (by owner) whose connections to `pods` on `port` the namespace's policies allow."""
    policies = [
        m["spec"]
        for m in manifests(synthesis, "NetworkPolicy")
        if m["metadata"]["namespace"] == namespace
        and "Ingress" in m["spec"]["policyTypes"]
        and selects(m["spec"]["podSelector"].get("matchLabels", {}), pods)
    ]
    assert policies, "no policy applies: every pod and address may connect"
    found = set()
    for rule in (r for p in policies for r in p.get("ingress", [])):
        # Only pods of this namespace: no address block, no other namespace.
        assert all(set(peer) == {"podSelector"} for peer in rule["from"]), rule
        ports = {(p["port"], p.get("protocol", "TCP")) for p in rule.get("ports", [])}
        if ports and (port, "TCP") not in ports:
            continue
        for owner, labels in pods_of_the_namespace(synthesis, namespace).items():
            if any(selects(peer["podSelector"].get("matchLabels", {}), labels) for peer in rule["from"]):
                found.add(owner)
    return found


# --- Redis in the cluster -----------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_the_projects_stacks_run_redis_in_the_cluster_and_nothing_of_redis_in_the_cloud(
    synthesized: Synth, stack: str
) -> None:
    synthesis = synthesized(stack)
    assert [r.name for r in synthesis.of_type("samokoder:redis:ClusterRedis")] == ["redis"]
    # Every Redis resource is a Kubernetes object in the cluster (or the component holding them).
    assert {r.type.split(":")[0] for r in synthesis.resources if "redis" in r.name} <= {
        "kubernetes",
        "samokoder",
    }
    assert named(synthesis, "StatefulSet", REDIS)
    assert named(synthesis, "Service", REDIS)


@pytest.mark.parametrize("stack", STACKS)
def test_redis_in_the_cluster_is_reached_only_by_the_api_the_worker_and_the_exporter(
    synthesized: Synth, stack: str
) -> None:
    synthesis = synthesized(stack)
    redis = named(synthesis, "StatefulSet", REDIS)
    labels = redis["spec"]["template"]["metadata"]["labels"]
    admitted = let_in(synthesis, labels, redis["metadata"]["namespace"], REDIS_PORT)
    assert admitted == {
        "Deployment/samokoder-api",
        "Deployment/samokoder-worker",
        "release/samokoder-redis-exporter",
    }
    assert {owner.split("/")[1] for owner in admitted} == APP_PODS


@pytest.mark.parametrize("stack", STACKS)
def test_protected_mode_is_off_only_where_a_policy_fences_redis(synthesized: Synth, stack: str) -> None:
    synthesis = synthesized(stack)
    unprotected = [
        s
        for s in manifests(synthesis, "StatefulSet")
        for c in s["spec"]["template"]["spec"]["containers"]
        if "--protected-mode" in c.get("command", [])
        and c["command"][c["command"].index("--protected-mode") + 1] == "no"
    ]
    assert len(unprotected) == 1
    for redis in unprotected:
        labels = redis["spec"]["template"]["metadata"]["labels"]
        admitted = let_in(synthesis, labels, redis["metadata"]["namespace"], REDIS_PORT)
        assert admitted, "protected mode off with nothing let in"
        assert {owner.split("/")[1] for owner in admitted} <= APP_PODS


@pytest.mark.parametrize("stack", STACKS)
def test_the_app_and_the_exporter_find_redis_in_the_cluster_without_tls_or_a_password(
    synthesized: Synth, stack: str
) -> None:
    synthesis = synthesized(stack)
    service = named(synthesis, "Service", REDIS)
    host = f"{service['metadata']['name']}.{service['metadata']['namespace']}.svc"
    data = named(synthesis, "ConfigMap", CONFIG_MAP)["data"]
    assert (data[app.REDIS_HOST.name], data[app.REDIS_PORT.name]) == (host, str(REDIS_PORT))
    values = exporter_values(synthesis)
    address = urlsplit(values["redisAddress"])
    assert (address.scheme, address.hostname, address.port) == ("redis", host, REDIS_PORT)
    assert "auth" not in values
    # Nothing of Redis is delivered as a secret.
    secret = app_secret(synthesis)
    assert not [d for d in secret["data"] if "REDIS" in d["secretKey"]]
    assert app.REDIS_URL.name not in secret["target"]["template"]["data"]


# --- the site's address and name ------------------------------------------------------------

ADDRESS = "yandex:index/vpcAddress:VpcAddress"
ZONE = "yandex:index/dnsZone:DnsZone"
RECORD = "yandex:index/dnsRecordSet:DnsRecordSet"


@pytest.mark.parametrize("stack", STACKS)
def test_the_sites_name_the_load_balancer_and_the_output_agree_on_one_address(
    synthesized: Synth, stack: str
) -> None:
    synthesis = synthesized(stack)
    (release,) = (r for r in synthesis.of_type(RELEASE) if r.inputs["chart"] == charts.INGRESS_NGINX.name)
    (record,) = synthesis.of_type(RECORD)
    (zone,) = synthesis.of_type(ZONE)
    (address,) = synthesis.of_type(ADDRESS)
    domain = synthesis.settings.identity.domain
    site = synthesis.outputs["site"]
    assert site["domain"] == domain
    assert record.inputs["datas"] == [site["address"]]
    assert release.inputs["values"]["controller"]["service"]["loadBalancerIP"] == site["address"]
    assert (zone.inputs["zone"], record.inputs["name"]) == (f"{domain}.", f"{domain}.")
    # The controller's load balancer asks for the address only once it is reserved.
    assert address.urn in release.dependencies
    assert site["name_servers"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_address_and_the_zone_are_protected_where_the_stack_protects_its_state(
    synthesized: Synth, stack: str
) -> None:
    synthesis = synthesized(stack)
    protect = synthesis.settings.protect_stateful
    assert {(r.type, r.protect) for r in synthesis.of_type(ADDRESS) + synthesis.of_type(ZONE)} == {
        (ADDRESS, protect),
        (ZONE, protect),
    }
    # Prod protects its state; staging may be torn down.
    assert protect is (stack == "prod")


def test_a_cluster_without_a_public_load_balancer_reserves_no_address_and_publishes_no_name() -> None:
    synthesis = synthesize_variant("staging", {"cluster.public_ingress": False})
    assert not synthesis.of_type(ADDRESS) + synthesis.of_type(ZONE) + synthesis.of_type(RECORD)
    assert "site" not in synthesis.outputs
    (release,) = (r for r in synthesis.of_type(RELEASE) if r.inputs["chart"] == charts.INGRESS_NGINX.name)
    assert "loadBalancerIP" not in release.inputs["values"]["controller"]["service"]


def test_before_the_address_exists_only_it_is_unknown_in_the_controllers_values() -> None:
    # A first preview: the chart's other values stay known, for the policies that read them.
    synthesis = synthesize("staging", PROJECT_DIR, preview=True)
    (release,) = (r for r in synthesis.of_type(RELEASE) if r.inputs["chart"] == charts.INGRESS_NGINX.name)
    service = release.inputs["values"]["controller"]["service"]
    assert service["loadBalancerIP"] == UNKNOWN_MARK
    assert service["externalTrafficPolicy"] == "Local"
