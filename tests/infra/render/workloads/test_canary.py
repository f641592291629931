"""The canary's objects: beside stable's without touching them, reached only through the API's location."""

from __future__ import annotations

import math

import kubernetes_validate
import pytest

from infra import app_contract, ingress_contract
from infra.conventions import APP_NAMESPACE, Naming
from infra.render.workloads import canary, routes
from infra.render.workloads import manifests as m
from infra.render.workloads.network_policies import network_policies
from tests.conftest import STACKS
from tests.infra.render.workloads.test_manifests import IMAGE, app, selects, settings

NAMING = Naming("unit")


def canary_objects(stack: str, weight: int) -> list[dict[str, object]]:
    spec = app(stack)
    return [
        canary.canary_deployment(NAMING, spec, IMAGE),
        canary.canary_service(NAMING),
        canary.canary_budget(NAMING),
        canary.canary_autoscaler(NAMING, spec, weight),
        canary.canary_ingress(NAMING, spec, weight),
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_every_canary_object_is_valid_and_named_as_flagger_names_it(stack: str) -> None:
    version = f"{settings(stack).cluster.version}.0"
    for document in canary_objects(stack, 10):
        kubernetes_validate.validate(document, version, strict=True)
        metadata = document["metadata"]
        assert isinstance(metadata, dict)
        assert metadata["name"] == "samokoder-api-canary"
        assert metadata["namespace"] == APP_NAMESPACE


def test_stable_and_canary_select_only_their_own_pods() -> None:
    spec = app()
    stable_pods = m.api_deployment(NAMING, spec, IMAGE)["spec"]["template"]["metadata"]["labels"]
    canary_pods = canary.canary_deployment(NAMING, spec, IMAGE)["spec"]["template"]["metadata"]["labels"]
    stable_service = m.service(NAMING, "api", app_contract.API_PORT)["spec"]["selector"]
    canary_service = canary.canary_service(NAMING)["spec"]["selector"]
    assert selects(stable_service, stable_pods)
    assert not selects(stable_service, canary_pods)
    assert selects(canary_service, canary_pods)
    assert not selects(canary_service, stable_pods)


def test_the_api_policy_admits_the_canarys_pods_as_it_admits_stables() -> None:
    """Under default-deny, a canary outside the API's policy would get no request and reach no database."""
    spec = app()
    canary_pods = canary.canary_deployment(NAMING, spec, IMAGE)["spec"]["template"]["metadata"]["labels"]
    stable_pods = m.api_deployment(NAMING, spec, IMAGE)["spec"]["template"]["metadata"]["labels"]
    policies = {
        p["metadata"]["name"]: p for p in network_policies(NAMING, "10.0.0.0/16", redis_in_cluster=True)
    }
    api = policies["api"]["spec"]["podSelector"]["matchLabels"]
    assert selects(api, canary_pods)
    assert selects(api, stable_pods)
    # The database's pooler and Redis name the API among their clients the same way.
    for name in ("database-pooler", "redis"):
        peers = [peer["podSelector"]["matchLabels"] for peer in policies[name]["spec"]["ingress"][0]["from"]]
        assert any(selects(peer, canary_pods) for peer in peers), name
    # ... and no other workload's policy takes the canary for one of its own pods.
    for name in ("worker", "frontend"):
        assert not selects(policies[name]["spec"]["podSelector"]["matchLabels"], canary_pods), name


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("weight", [1, 5, 25, 50, 99])
def test_the_canary_ingress_joins_the_apis_location_with_its_weight(stack: str, weight: int) -> None:
    """ingress-nginx merges a canary only into a location of the same host, path and pathType."""
    spec = app(stack)
    ingress = canary.canary_ingress(NAMING, spec, weight)
    api = routes.api_ingress(NAMING, spec)
    (rule,), (api_rule,) = ingress["spec"]["rules"], api["spec"]["rules"]
    assert rule["host"] == api_rule["host"] == settings(stack).identity.domain
    (path,), (api_path,) = rule["http"]["paths"], api_rule["http"]["paths"]
    assert (path["path"], path["pathType"]) == (api_path["path"], api_path["pathType"])
    assert path["backend"]["service"]["name"] == canary.canary_service(NAMING)["metadata"]["name"]
    assert path["backend"]["service"]["port"]["number"] == app_contract.API_PORT
    annotations = ingress["metadata"]["annotations"]
    assert annotations[ingress_contract.CANARY_ANNOTATION] == "true"
    assert annotations[ingress_contract.CANARY_WEIGHT_ANNOTATION] == str(weight)
    # The host's certificate is the API's Ingress's: the canary asks for none.
    assert "tls" not in ingress["spec"]
    assert not any(key.startswith("cert-manager.io/") for key in annotations)


def test_the_canary_label_names_the_canarys_service_and_port() -> None:
    ingress = canary.canary_ingress(NAMING, app(), 10)
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert canary.canary_upstream() == f"{APP_NAMESPACE}-{backend['name']}-{backend['port']['number']}"


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("weight", [1, 5, 25, 50, 99])
def test_the_canary_scales_with_its_share_of_the_apis(stack: str, weight: int) -> None:
    spec = app(stack)
    hpa = canary.canary_autoscaler(NAMING, spec, weight)["spec"]
    assert hpa["scaleTargetRef"]["name"] == "samokoder-api-canary"
    # Never below stable's own floor, up to two: a drain leaves a production canary a pod.
    assert hpa["minReplicas"] >= min(2, spec.replicas.api)
    assert hpa["minReplicas"] >= math.ceil(spec.replicas.api * weight / 100)
    assert hpa["maxReplicas"] >= math.ceil(spec.workloads.api_max_replicas * weight / 100)
    assert hpa["minReplicas"] <= hpa["maxReplicas"] <= spec.workloads.api_max_replicas
