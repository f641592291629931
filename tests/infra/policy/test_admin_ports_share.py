"""Administrative ports face no more of the internet than a production API allow-list may admit (a /16).

Before, the bound was a /8's worth: SSH or the kubelet open to a /9 (8 million
addresses) passed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from infra.policy.validators.network import ADMIN_PORTS, admin_ports_closed


@dataclass
class Group:
    props: Mapping[str, Any]
    config: Mapping[str, Any] = field(default_factory=dict)
    resource_type: str = "yandex:index/vpcSecurityGroup:VpcSecurityGroup"
    urn: str = "urn:pulumi:prod::samokoder::yandex:index/vpcSecurityGroup:VpcSecurityGroup::nodes"
    name: str = "nodes"
    opts: Any = None

    def get_config(self) -> Mapping[str, Any]:
        return self.config


def opened(port: int, *cidrs: str, config: Mapping[str, Any] | None = None) -> list[str]:
    found: list[str] = []
    group = Group(
        {"ingresses": [{"protocol": "TCP", "port": port, "v4CidrBlocks": list(cidrs)}]}, config or {}
    )
    admin_ports_closed(group, lambda message, *_: found.append(message))
    return found


@pytest.mark.parametrize("port", sorted(ADMIN_PORTS))
def test_a_block_wider_than_a_16_is_refused(port: int) -> None:
    assert opened(port, "1.0.0.0/9")
    assert opened(port, "1.0.0.0/16", "2.0.0.0/32")  # together past a /16


@pytest.mark.parametrize("port", sorted(ADMIN_PORTS))
def test_an_office_a_private_range_and_the_api_allow_list_pass(port: int) -> None:
    assert opened(port, "1.2.3.0/24", "1.2.0.0/16") == []  # overlaps merged: a /16 in all
    assert opened(port, "10.0.0.0/8", "172.16.0.0/12") == []
    assert opened(6443, "0.0.0.0/0", config={"apiAllowedCidrs": ["0.0.0.0/0"]}) == []
