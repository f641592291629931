"""cert-manager built alone: the pinned chart in its restricted namespace, CRDs kept on uninstall."""

from __future__ import annotations

from components.cert_manager import CertManager, CertManagerArgs
from infra.conventions import CERT_MANAGER_NAMESPACE
from infra.render.charts import CERT_MANAGER
from tests.components.harness import NAMING, build

RELEASE = "kubernetes:helm.sh/v3:Release"
NAMESPACE = "kubernetes:core/v1:Namespace"


def test_cert_manager_installs_its_pinned_chart_into_its_own_restricted_namespace() -> None:
    built = build(lambda: CertManager("cert-manager", CertManagerArgs(naming=NAMING)))
    release, namespace = built.one(RELEASE).inputs, built.one(NAMESPACE).inputs
    assert (release["chart"], release["version"]) == (CERT_MANAGER.name, CERT_MANAGER.version)
    assert release["namespace"] == namespace["metadata"]["name"] == CERT_MANAGER_NAMESPACE
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_cert_manager_keeps_its_crds_when_the_release_goes_so_certificates_survive() -> None:
    built = build(lambda: CertManager("cert-manager", CertManagerArgs(naming=NAMING)))
    assert built.one(RELEASE).inputs["values"]["crds"] == {"enabled": True, "keep": True}


def test_every_resource_of_cert_manager_is_its_child() -> None:
    built = build(lambda: CertManager("cert-manager", CertManagerArgs(naming=NAMING)))
    (component,) = [r for r in built.resources if r.type == "samokoder:cluster:CertManager"]
    assert {r.parent for r in built.resources if r.custom} == {component.urn}
