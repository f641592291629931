"""The ingress-nginx controller's Helm values and the Let's Encrypt ClusterIssuer, as plain data."""

from __future__ import annotations

from typing import Any, Final

from infra.conventions import CLUSTER_ISSUER, INGRESS_CLASS, INGRESS_NODE_PORTS, Naming
from infra.render import k8s

ACME_SERVER: Final = "https://acme-v02.api.letsencrypt.org/directory"


def controller_values(replicas: int, address: object | None = None) -> dict[str, Any]:
    """The controller's values; ``address``: the reserved public address its load balancer takes.

    Placed as given: the component hands the address as the cloud will report it (a Pulumi
    output), so only that value is unknown before the address exists, not the whole values.
    """
    service: dict[str, Any] = {
        # Client addresses reach the pods (rate limits, logs). Fixed NodePorts: the
        # nodes' security group admits clients to these two only.
        "externalTrafficPolicy": "Local",
        "nodePorts": dict(INGRESS_NODE_PORTS),
    }
    if address is not None:
        # The chart writes it into the external Service's spec.loadBalancerIP
        # (charts/ingress-nginx/values.yaml:518-520, templates/controller-service.yaml:31-32
        # at helm-chart-4.15.1), where Yandex's cloud controller takes a reserved address
        # (yandex-cloud/docs en/managed-kubernetes/operations/create-load-balancer.md:19).
        # Kubernetes deprecates the field for a per-provider annotation; Yandex documents no
        # annotation for it, so the field it is.
        service["loadBalancerIP"] = address
    return {
        "controller": {
            "replicaCount": replicas,
            "ingressClassResource": {"name": INGRESS_CLASS, "default": True},
            "service": service,
            "metrics": {"enabled": True, "serviceMonitor": {"enabled": True}},
            # The chart keeps one pod through drains by itself whenever replicas > 1
            # (controller.minAvailable: 1, templates/controller-poddisruptionbudget.yaml).
        }
    }


def cluster_issuer(naming: Naming, email: str) -> dict[str, Any]:
    acme = {
        "server": ACME_SERVER,
        "email": email,
        "privateKeySecretRef": {"name": f"{CLUSTER_ISSUER}-account-key"},
        "solvers": [{"http01": {"ingress": {"ingressClassName": INGRESS_CLASS}}}],
    }
    metadata = k8s.metadata(naming, CLUSTER_ISSUER, "certificates", namespace=None)
    return k8s.manifest("cert-manager.io/v1", "ClusterIssuer", metadata, spec={"acme": acme})
