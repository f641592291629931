"""cert-manager: issues the TLS certificates in-cluster services need, installed once per cluster.

The Barman Cloud plugin's mutual TLS with CloudNativePG uses its certificates;
the ingress gets its own issuer on this same installation.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.kube import Component, HelmRelease, installation
from infra.conventions import CERT_MANAGER_NAMESPACE, Naming
from infra.render import cert_manager, charts


@dataclass(frozen=True)
class CertManagerArgs:
    naming: Naming


class CertManager(Component):
    # Objects that need cert-manager's CRDs or webhook depend on this.
    release: HelmRelease

    def __init__(self, name: str, args: CertManagerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("samokoder:cluster:CertManager", name, None, opts)
        _, self.release = installation(
            self,
            name,
            charts.CERT_MANAGER,
            cert_manager.values(),
            home=CERT_MANAGER_NAMESPACE,
            labels=args.naming.k8s_labels("cert-manager", "certificates"),
            pod_security="restricted",
        )
        self.register_outputs({"release_status": self.release.status})
