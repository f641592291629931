"""Ingress: the ingress-nginx controller behind a Yandex load balancer, and a Let's Encrypt issuer.

Installed once per cluster, like cert-manager (which issues the certificates).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import pulumi
import pulumi_kubernetes as k8s

from components.kube import Chart, custom_resource, helm_release, namespace
from infra.conventions import Naming
from infra.render.workloads.manifests import CLUSTER_ISSUER, INGRESS_CLASS
from infra.render.workloads.network_policies import INGRESS_NAMESPACE

CHART: Final = Chart("ingress-nginx", "4.15.1", "https://kubernetes.github.io/ingress-nginx")
ACME_SERVER: Final = "https://acme-v02.api.letsencrypt.org/directory"


@dataclass(frozen=True)
class IngressArgs:
    naming: Naming
    acme_email: str
    replicas: int
    # cert-manager's release: the issuer needs its CRDs and webhook.
    cert_manager: pulumi.Resource


def controller_values(replicas: int) -> dict[str, Any]:
    return {
        "controller": {
            "replicaCount": replicas,
            "ingressClassResource": {"name": INGRESS_CLASS, "default": True},
            # Client addresses reach the pods (rate limits, logs).
            "service": {"externalTrafficPolicy": "Local"},
            "metrics": {"enabled": True, "serviceMonitor": {"enabled": True}},
            "podDisruptionBudget": {"enabled": replicas > 1, "minAvailable": 1},
        }
    }


def cluster_issuer(naming: Naming, email: str) -> dict[str, Any]:
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "ClusterIssuer",
        "metadata": {"name": CLUSTER_ISSUER, "labels": naming.k8s_labels(CLUSTER_ISSUER, "certificates")},
        "spec": {
            "acme": {
                "server": ACME_SERVER,
                "email": email,
                "privateKeySecretRef": {"name": f"{CLUSTER_ISSUER}-account-key"},
                "solvers": [{"http01": {"ingress": {"ingressClassName": INGRESS_CLASS}}}],
            }
        },
    }


class Ingress(pulumi.ComponentResource):
    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: IngressArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("samokoder:cluster:Ingress", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # The controller's admission webhook runs as the chart's non-root user.
        home = namespace(
            f"{name}-namespace",
            INGRESS_NAMESPACE,
            args.naming.k8s_labels("ingress-nginx", "ingress"),
            "baseline",
            child,
        )
        self.release = helm_release(name, CHART, home.metadata.name, controller_values(args.replicas), child)
        custom_resource(
            f"{name}-issuer",
            cluster_issuer(args.naming, args.acme_email),
            pulumi.ResourceOptions(parent=self, depends_on=[args.cert_manager]),
        )
        self.register_outputs({"release_status": self.release.status})
