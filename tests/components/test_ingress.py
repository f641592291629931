"""Ingress built alone beside cert-manager: a baseline namespace, the pinned controller, a patient issuer."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

import pytest

from components.cert_manager import CertManager, CertManagerArgs
from components.dns import Dns, DnsArgs
from components.ingress import Ingress, IngressArgs
from components.monitoring import Monitoring
from infra.conventions import CLUSTER_ISSUER, INGRESS_CLASS, INGRESS_NAMESPACE
from infra.ops.synth.mocks import RecordedResource
from infra.render.charts import INGRESS_NGINX
from tests.components.harness import NAMING, Built, build

RELEASE = "kubernetes:helm.sh/v3:Release"
NAMESPACE = "kubernetes:core/v1:Namespace"
ISSUER = "kubernetes:cert-manager.io/v1:ClusterIssuer"
EMAIL = "oncall@samokoder.example"


ADDRESS = "yandex:index/vpcAddress:VpcAddress"
RECORD = "yandex:index/dnsRecordSet:DnsRecordSet"


def ingress(replicas: int = 2, *, site: bool = False) -> Built[Ingress]:
    def program() -> Ingress:
        cert_manager = CertManager("cert-manager", CertManagerArgs(naming=NAMING))
        monitoring = cast(Monitoring, SimpleNamespace(release=cert_manager.release))
        dns = (
            Dns(
                "dns", DnsArgs(naming=NAMING, folder_id="f", domain="samokoder.example", zone="ru-central1-a")
            )
            if site
            else None
        )
        return Ingress(
            "ingress",
            IngressArgs(
                naming=NAMING,
                acme_email=EMAIL,
                replicas=replicas,
                cert_manager=cert_manager,
                monitoring=monitoring,
                site=dns,
            ),
        )

    return build(program)


def release_named(built: Built[Ingress], name: str) -> RecordedResource:
    (found,) = (r for r in built.of_type(RELEASE) if r.name == name)
    return found


def test_the_controller_gets_its_own_namespace_at_the_baseline_pod_security_level() -> None:
    built = ingress()
    namespace = built.named("ingress-namespace")
    assert namespace.inputs["metadata"]["name"] == INGRESS_NAMESPACE
    # Not privileged: the chart's pods run as its non-root user.
    assert namespace.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    release = release_named(built, "ingress")
    assert release.inputs["namespace"] == INGRESS_NAMESPACE
    # Installed into the namespace once it exists.
    assert namespace.urn in release.dependencies


def test_the_controller_is_the_pinned_chart() -> None:
    inputs = release_named(ingress(), "ingress").inputs
    assert (inputs["chart"], inputs["version"], inputs["repositoryOpts"]["repo"]) == (
        INGRESS_NGINX.name,
        INGRESS_NGINX.version,
        INGRESS_NGINX.repository,
    )


@pytest.mark.parametrize("replicas", [1, 2, 3])
def test_the_controller_runs_the_replicas_it_is_given(replicas: int) -> None:
    controller = release_named(ingress(replicas), "ingress").inputs["values"]["controller"]
    assert controller["replicaCount"] == replicas
    # ingress-nginx 4.15 has no controller.podDisruptionBudget: the chart makes its
    # own budget whenever replicas > 1, and an unknown key would only mislead.
    assert "podDisruptionBudget" not in controller


def test_the_issuer_waits_for_cert_managers_release_and_answers_on_the_controllers_class() -> None:
    built = ingress()
    cert_manager_release = release_named(built, "cert-manager")
    issuer = built.one(ISSUER)
    assert cert_manager_release.urn in issuer.dependencies
    assert issuer.inputs["metadata"]["name"] == CLUSTER_ISSUER
    acme = issuer.inputs["spec"]["acme"]
    assert acme["email"] == EMAIL
    (solver,) = acme["solvers"]
    controller = release_named(built, "ingress").inputs["values"]["controller"]
    assert solver["http01"]["ingress"]["ingressClassName"] == controller["ingressClassResource"]["name"]
    assert controller["ingressClassResource"]["name"] == INGRESS_CLASS


def test_with_a_site_the_load_balancer_takes_its_reserved_address_once_reserved() -> None:
    built = ingress(site=True)
    release = release_named(built, "ingress")
    (record,) = built.of_type(RECORD)
    # The address the site's name resolves to is the one the load balancer asks for.
    assert [release.inputs["values"]["controller"]["service"]["loadBalancerIP"]] == record.inputs["datas"]
    assert built.one(ADDRESS).urn in release.dependencies


def test_without_a_site_the_load_balancer_gets_whatever_address_the_cloud_gives() -> None:
    built = ingress()
    assert not built.of_type(ADDRESS)
    assert "loadBalancerIP" not in release_named(built, "ingress").inputs["values"]["controller"]["service"]


def test_every_resource_of_the_ingress_is_its_child() -> None:
    built = ingress()
    (component,) = [r for r in built.resources if r.type == "samokoder:cluster:Ingress"]
    (cert_manager,) = [r for r in built.resources if r.type == "samokoder:cluster:CertManager"]
    mine = {r.name for r in built.resources if r.custom and r.parent == component.urn}
    assert mine == {"ingress-namespace", "ingress", "ingress-issuer"}
    assert all(r.parent in (component.urn, cert_manager.urn) for r in built.resources if r.custom)
