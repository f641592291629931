"""The site's public name as plain data: its Cloud DNS zone, its records and who serves them.

Each stack owns a public zone named after its domain (``identity.domain``) and
an ``A`` record at the zone's apex pointing at the address reserved for the
ingress controller's load balancer (components/dns.py). Let's Encrypt's HTTP-01
check and the deploy's smoke check resolve the domain through it from the first
deploy on, once the domain is delegated to the name servers below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# Every public Cloud DNS zone is served by these two; a domain is delegated to a zone by
# listing them in its NS records at the registrar or the parent zone
# (yandex-cloud/docs en/dns/concepts/dns-zone.md:22-26). pulumi-yandex 0.13.0's
# DnsZone has no output that names them (its outputs, pulumi_yandex/dns_zone.py:439-501:
# created_at, description, folder_id, labels, name, private_networks, public, zone), so they
# are spelled here.
NAME_SERVERS: Final = ("ns1.yandexcloud.net.", "ns2.yandexcloud.net.")
# The address is reserved and does not change, so a long TTL costs nothing; short enough
# that a hand-made mistake in the record clears within the hour.
RECORD_TTL_SECONDS: Final = 600


def zone_name(domain: str) -> str:
    """The zone's DNS name, fully qualified: Cloud DNS wants the final dot (dns_zone.py:25)."""
    return f"{domain.rstrip('.')}."


@dataclass(frozen=True)
class Record:
    """One record set of the zone; ``name`` fully qualified, ``data`` the address left to the caller."""

    name: str
    type: str
    ttl: int


def site_records(domain: str) -> tuple[Record, ...]:
    """The records that send the site's host to the load balancer's address.

    The apex only: the site and its API share one host (infra/render/workloads/routes.py),
    and the ACME solver answers on that host too.
    """
    return (Record(zone_name(domain), "A", RECORD_TTL_SECONDS),)
