"""cert-manager: issues the TLS certificates in-cluster services need, installed once per cluster.

The Barman Cloud plugin talks to the CloudNativePG operator over mutual TLS
with certificates cert-manager issues; the ingress gets its own issuer on
this same installation.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.kube import HelmRelease, helm_release, namespace
from infra.conventions import CERT_MANAGER_NAMESPACE, Naming
from infra.render import cert_manager, charts


@dataclass(frozen=True)
class CertManagerArgs:
    naming: Naming


class CertManager(pulumi.ComponentResource):
    # Objects that need cert-manager's CRDs or webhook depend on this.
    release: HelmRelease

    def __init__(self, name: str, args: CertManagerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("samokoder:cluster:CertManager", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        home = namespace(
            f"{name}-namespace",
            CERT_MANAGER_NAMESPACE,
            args.naming.k8s_labels("cert-manager", "certificates"),
            "restricted",
            child,
        )
        self.release = helm_release(
            name,
            charts.CERT_MANAGER,
            CERT_MANAGER_NAMESPACE,
            cert_manager.values(),
            pulumi.ResourceOptions(parent=self, depends_on=[home]),
        )
        self.register_outputs({"release_status": self.release.status})
