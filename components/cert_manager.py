"""cert-manager: issues the TLS certificates in-cluster services need, installed once per cluster.

The Barman Cloud plugin talks to the CloudNativePG operator over mutual TLS
with certificates cert-manager issues; the ingress (workloads) gets its own
issuer on this same installation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import pulumi
import pulumi_kubernetes as k8s

from components.kube import Chart, helm_release, namespace
from infra.conventions import Naming

CHART: Final = Chart("cert-manager", "v1.19.1", "https://charts.jetstack.io")
NAMESPACE: Final = "cert-manager"


@dataclass(frozen=True)
class CertManagerArgs:
    naming: Naming


class CertManager(pulumi.ComponentResource):
    # Objects that need cert-manager's CRDs or webhook depend on this.
    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: CertManagerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("samokoder:cluster:CertManager", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        home = namespace(
            f"{name}-namespace",
            NAMESPACE,
            args.naming.k8s_labels("cert-manager", "certificates"),
            "restricted",
            child,
        )
        self.release = helm_release(
            name,
            CHART,
            home.metadata.name,
            {
                "crds": {"enabled": True, "keep": True},
                "prometheus": {"enabled": True, "servicemonitor": {"enabled": False}},
            },
            child,
        )
        self.register_outputs({"release_status": self.release.status})
