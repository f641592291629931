"""Dns alone: an address reserved in the given zone, a public zone for the domain, its apex on the address."""

from __future__ import annotations

import pytest

from components.dns import Dns, DnsArgs
from infra.render.dns import NAME_SERVERS
from tests.components.harness import NAMING, Built, build

ADDRESS = "yandex:index/vpcAddress:VpcAddress"
ZONE = "yandex:index/dnsZone:DnsZone"
RECORD = "yandex:index/dnsRecordSet:DnsRecordSet"
DOMAIN = "samokoder.example"


def dns(protect: bool = False, zone: str = "ru-central1-b") -> Built[Dns]:
    def program() -> Dns:
        return Dns(
            "dns",
            DnsArgs(naming=NAMING, folder_id="b1gfolder", domain=DOMAIN, zone=zone, protect=protect),
        )

    return build(program)


@pytest.mark.parametrize("zone", ["ru-central1-a", "ru-central1-d"])
def test_the_address_is_a_reserved_external_one_in_the_zone_it_is_given(zone: str) -> None:
    reserved = dns(zone=zone).one(ADDRESS)
    assert reserved.inputs["externalIpv4Address"]["zoneId"] == zone
    assert reserved.inputs["folderId"] == "b1gfolder"
    assert reserved.inputs["name"] == NAMING.cloud("site-address")


def test_the_zone_is_public_and_named_after_the_domain() -> None:
    zone = dns().one(ZONE)
    assert zone.inputs["public"] is True
    assert zone.inputs["zone"] == f"{DOMAIN}."
    assert zone.inputs["folderId"] == "b1gfolder"


def test_the_sites_host_resolves_to_the_reserved_address() -> None:
    built = dns()
    (record,) = built.of_type(RECORD)
    zone, reserved = built.one(ZONE), built.one(ADDRESS)
    assert (record.inputs["name"], record.inputs["type"]) == (f"{DOMAIN}.", "A")
    # The record's data is the address the cloud reserved, so it waits for the address.
    assert reserved.urn in record.dependencies
    assert zone.urn in record.dependencies
    (data,) = record.inputs["datas"]
    assert data.count(".") == 3
    assert all(part.isdigit() for part in data.split("."))


def test_the_address_the_component_hands_on_is_the_one_the_record_holds() -> None:
    handed: list[str] = []

    def program() -> Dns:
        site = Dns("dns", DnsArgs(naming=NAMING, folder_id="f", domain=DOMAIN, zone="ru-central1-a"))
        site.address.apply(handed.append)
        return site

    built = build(program)
    (record,) = built.of_type(RECORD)
    assert handed == record.inputs["datas"]


@pytest.mark.parametrize("protect", [True, False])
def test_protect_keeps_the_address_and_the_zone_and_not_the_records(protect: bool) -> None:
    built = dns(protect=protect)
    assert built.one(ADDRESS).protect is protect
    assert built.one(ZONE).protect is protect
    # A record is written again from the address at any time: nothing to lose.
    assert not any(r.protect for r in built.of_type(RECORD))


def test_the_component_names_the_servers_to_delegate_to_and_owns_its_children() -> None:
    built = dns()
    assert built.component.name_servers == NAME_SERVERS
    (component,) = (r for r in built.resources if r.type == "samokoder:network:Dns")
    children = {r.name for r in built.resources if r.custom}
    assert children == {"dns-address", "dns-zone", "dns-a"}
    assert all(r.parent == component.urn for r in built.resources if r.custom)
