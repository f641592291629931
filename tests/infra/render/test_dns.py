"""The site's zone and records as data: a fully qualified zone per domain, its apex sent to the address."""

from __future__ import annotations

import pytest

from infra.render.dns import NAME_SERVERS, RECORD_TTL_SECONDS, site_records, zone_name
from infra.settings import load_settings
from tests.conftest import STACKS, stack_file_values


@pytest.mark.parametrize("stack", STACKS)
def test_each_stacks_domain_is_its_zone_fully_qualified(stack: str) -> None:
    domain = load_settings(stack, stack_file_values(stack), offline=True).identity.domain
    zone = zone_name(domain)
    # Cloud DNS takes a zone's name with its final dot, and only one.
    assert zone.endswith(".")
    assert not zone.endswith("..")
    assert zone.rstrip(".") == domain


def test_a_name_given_with_its_dot_keeps_one() -> None:
    assert zone_name("samokoder.example.") == zone_name("samokoder.example") == "samokoder.example."


@pytest.mark.parametrize("domain", ["samokoder.example", "staging.samokoder.example"])
def test_the_sites_host_is_the_zones_apex_and_an_address_record(domain: str) -> None:
    (record,) = site_records(domain)
    # The site, its API and the ACME solver share the one host.
    assert (record.name, record.type) == (zone_name(domain), "A")
    assert record.ttl == RECORD_TTL_SECONDS > 0


def test_the_name_servers_to_delegate_to_are_fully_qualified_and_distinct() -> None:
    assert len(set(NAME_SERVERS)) == len(NAME_SERVERS) >= 2
    assert all(server.endswith(".yandexcloud.net.") for server in NAME_SERVERS)
