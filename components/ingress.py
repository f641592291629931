"""Ingress: the ingress-nginx controller behind a Yandex load balancer, and a Let's Encrypt issuer.

Installed once per cluster, like cert-manager (which issues the certificates).
With a public site (components/dns.py), the load balancer takes the site's
reserved address, so the name's records hold whenever the Service is recreated.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.cert_manager import CertManager
from components.dns import Dns
from components.kube import Component, HelmRelease, custom_resource, installation
from components.monitoring import Monitoring
from infra.conventions import INGRESS_NAMESPACE, Naming
from infra.render import charts
from infra.render.ingress import cluster_issuer, controller_values


@dataclass(frozen=True)
class IngressArgs:
    naming: Naming
    acme_email: str
    replicas: int
    # The issuer needs cert-manager's CRDs and webhook.
    cert_manager: CertManager
    # The chart's ServiceMonitor needs the monitoring CRDs, which that release installs.
    monitoring: Monitoring
    # The site's reserved address and name; None: the load balancer gets a dynamic address.
    site: Dns | None = None


class Ingress(Component):
    release: HelmRelease

    def __init__(self, name: str, args: IngressArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("samokoder:cluster:Ingress", name, None, opts)
        # The load balancer asks for the address when the Service is created: reserve it first.
        site = args.site
        _, self.release = installation(
            self,
            name,
            charts.INGRESS_NGINX,
            controller_values(args.replicas, site.address if site else None),
            home=INGRESS_NAMESPACE,
            labels=args.naming.k8s_labels("ingress-nginx", "ingress"),
            # The controller's admission webhook runs as the chart's non-root user.
            pod_security="baseline",
            after=[args.monitoring.release, *([site.reserved] if site else [])],
        )
        issuer = cluster_issuer(args.naming, args.acme_email)
        custom_resource(f"{name}-issuer", issuer, self.opts(args.cert_manager.release))
        self.register_outputs({"release_status": self.release.status})
