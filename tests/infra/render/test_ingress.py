"""The controller's values and the ClusterIssuer: one ingress class, real certificates, drains proceed."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from infra.conventions import INGRESS_CLASS, TLS_SECRET, Naming
from infra.render.ingress import cluster_issuer, controller_values
from infra.render.workloads import manifests, routes
from infra.settings import load_settings
from tests.conftest import stack_file_values

NAMING = Naming("unit")
EMAIL = "oncall@samokoder.example"


@pytest.mark.parametrize("replicas", [1, 2, 3, 5])
def test_the_controller_runs_the_replicas_asked_for(replicas: int) -> None:
    assert controller_values(replicas)["controller"]["replicaCount"] == replicas


@pytest.mark.parametrize("replicas", [1, 2, 3, 5])
def test_the_values_leave_the_disruption_budget_to_the_chart(replicas: int) -> None:
    controller = controller_values(replicas)["controller"]
    # ingress-nginx 4.15 makes a budget (minAvailable 1) by itself whenever replicas > 1;
    # it has no controller.podDisruptionBudget key, so one here would be ignored.
    assert "podDisruptionBudget" not in controller
    assert controller["replicaCount"] == replicas


def test_client_addresses_reach_the_controller_and_its_metrics_are_scraped() -> None:
    controller = controller_values(2)["controller"]
    assert controller["service"]["externalTrafficPolicy"] == "Local"
    assert controller["metrics"] == {"enabled": True, "serviceMonitor": {"enabled": True}}


def test_a_reserved_address_goes_to_the_load_balancer_and_none_leaves_it_to_the_cloud() -> None:
    service = controller_values(2, "203.0.113.7")["controller"]["service"]
    assert service["loadBalancerIP"] == "203.0.113.7"
    # The rest of the Service's values are the same with or without it.
    assert {k: v for k, v in service.items() if k != "loadBalancerIP"} == controller_values(2)["controller"][
        "service"
    ]
    assert "loadBalancerIP" not in controller_values(2)["controller"]["service"]


def test_the_controller_the_issuer_and_the_apps_ingresses_share_one_ingress_class() -> None:
    klass = controller_values(2)["controller"]["ingressClassResource"]
    assert klass == {"name": INGRESS_CLASS, "default": True}
    (solver,) = cluster_issuer(NAMING, EMAIL)["spec"]["acme"]["solvers"]
    assert solver["http01"]["ingress"]["ingressClassName"] == klass["name"]
    app = manifests.AppSpec.of(load_settings("staging", stack_file_values("staging"), offline=True))
    for ingress in (routes.site_ingress(NAMING, app), routes.api_ingress(NAMING, app)):
        assert ingress["spec"]["ingressClassName"] == klass["name"]


def test_the_apps_ingresses_ask_the_issuer_by_its_name_for_a_certificate() -> None:
    issuer = cluster_issuer(NAMING, EMAIL)
    app = manifests.AppSpec.of(load_settings("staging", stack_file_values("staging"), offline=True))
    for ingress in (routes.site_ingress(NAMING, app), routes.api_ingress(NAMING, app)):
        annotations = ingress["metadata"]["annotations"]
        assert annotations["cert-manager.io/cluster-issuer"] == issuer["metadata"]["name"]
    # The ACME account key and the site's certificate are different Secrets.
    assert issuer["spec"]["acme"]["privateKeySecretRef"]["name"] != TLS_SECRET


def test_the_issuer_is_lets_encrypts_production_directory_over_https() -> None:
    server = urlsplit(cluster_issuer(NAMING, EMAIL)["spec"]["acme"]["server"])
    # Not the staging directory: its certificates are not trusted by browsers.
    assert (server.scheme, server.hostname, server.path) == (
        "https",
        "acme-v02.api.letsencrypt.org",
        "/directory",
    )


def test_the_issuer_is_cluster_wide_and_writes_to_the_contact_it_is_given() -> None:
    issuer = cluster_issuer(NAMING, "certs@samokoder.example")
    assert (issuer["apiVersion"], issuer["kind"]) == ("cert-manager.io/v1", "ClusterIssuer")
    assert "namespace" not in issuer["metadata"]
    assert issuer["spec"]["acme"]["email"] == "certs@samokoder.example"
    assert issuer["metadata"]["labels"]["app.kubernetes.io/instance"].endswith("-unit")
