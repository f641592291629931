"""Dns: the site's reserved public address, and the Cloud DNS zone and records that name it.

The ingress controller's load balancer takes the reserved address
(components/ingress.py hands it to the chart as ``controller.service.loadBalancerIP``).
The address outlives the load balancer's Service: recreating the controller
keeps the name's address, and the records never go stale.

Yandex Cloud facts, from yandex-cloud/docs (en/):
- a LoadBalancer Service takes a public address reserved in advance in its
  ``loadBalancerIP`` field (managed-kubernetes/operations/create-load-balancer.md:19,
  and its "Specify the advanced settings" section); the cluster's service
  account then needs ``vpc.publicAdmin`` and ``load-balancer.admin``, which
  components/kubernetes_cluster.py grants with ``public_ingress``;
- a static address is reserved in one availability zone
  (vpc/operations/get-static-ip.md, ``external_ipv4_address.zone_id``), but a
  network load balancer's listener address is announced from every zone
  (network-load-balancer/concepts/listener.md:11): any of the
  stack's zones serves a regional cluster, so the address takes the first;
- a nested public zone (``staging.samokoder.ru.`` under ``samokoder.ru.``) can
  only be created by an account with ``dns.editor`` in the parent zone's folder
  (dns/concepts/dns-zone.md:32); a stack whose domain sits under
  another stack's zone in Cloud DNS needs that grant, or a domain of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_yandex as yandex

from components.kube import Component
from infra.conventions import Naming
from infra.render.dns import NAME_SERVERS, site_records, zone_name


@dataclass(frozen=True)
class DnsArgs:
    naming: Naming
    folder_id: str
    # The site's host: the zone is named after it and its apex points at the address.
    domain: str
    # The availability zone the address is reserved in (see the module's docstring).
    zone: str
    # Protect the address and the zone: a new address breaks every resolver's cached answer
    # until the TTL runs out, and a deleted public zone can be taken by anyone (dns-zone.md:34).
    protect: bool = False


class Dns(Component):
    address: pulumi.Output[str]
    # What must exist before the load balancer may ask for the address.
    reserved: yandex.VpcAddress
    zone_id: pulumi.Output[str]
    name_servers: tuple[str, ...]

    def __init__(self, name: str, args: DnsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("samokoder:network:Dns", name, None, opts)
        naming = args.naming
        labels = naming.cloud_labels("dns")
        self.reserved = yandex.VpcAddress(
            f"{name}-address",
            name=naming.cloud("site-address"),
            folder_id=args.folder_id,
            description=f"The ingress load balancer's address: {args.domain}",
            labels=labels,
            external_ipv4_address=yandex.VpcAddressExternalIpv4AddressArgs(zone_id=args.zone),
            opts=self.opts(protect=args.protect),
        )
        self.address = self.reserved.external_ipv4_address.apply(_ip)
        zone = yandex.DnsZone(
            f"{name}-zone",
            name=naming.cloud("dns"),
            folder_id=args.folder_id,
            zone=zone_name(args.domain),
            public=True,
            description=f"The public zone of {args.domain}",
            labels=labels,
            opts=self.opts(protect=args.protect),
        )
        self.zone_id = zone.id
        self.name_servers = NAME_SERVERS
        for record in site_records(args.domain):
            yandex.DnsRecordSet(
                f"{name}-{record.type.lower()}",
                zone_id=zone.id,
                name=record.name,
                type=record.type,
                ttl=record.ttl,
                datas=[self.address],
                opts=self.opts(),
            )
        self.register_outputs(
            {"address": self.address, "zone_id": self.zone_id, "name_servers": list(self.name_servers)}
        )


def _ip(spec: yandex.outputs.VpcAddressExternalIpv4Address | None) -> str:
    # A reserved external address always reports the address it got.
    if spec is None or not spec.address:
        raise ValueError("the reserved address reports no external IPv4 address")
    return spec.address
