"""What every settings model shares: the strict base, the validation context, the value types."""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator


class StrictModel(BaseModel):
    """Base of every settings model: immutable, no unknown keys, no inf or nan (no threshold is infinite)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def is_production(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get("production"))


def is_offline(info: ValidationInfo) -> bool:
    """Synth: no decryption, no cloud; provided secrets may be absent."""
    return bool(info.context and info.context.get("offline"))


def production_rules(rules: Mapping[str, tuple[Callable[[Any], bool], str]]) -> Any:
    """One validator of the fields a production stack constrains: a value `refused` there fails with its
    reason (``{value}`` in it is the value)."""

    def check(cls: type, value: Any, info: ValidationInfo) -> Any:
        refused, reason = rules[str(info.field_name)]
        if is_production(info) and refused(value):
            raise ValueError(reason.format(value=value))
        return value

    return field_validator(*rules)(check)


def _matching(pattern: str, what: str, must: str) -> AfterValidator:
    """A string type that fully matches `pattern`; `what` is what the reference calls it."""
    regex = re.compile(pattern)

    def check(value: str) -> str:
        if not regex.fullmatch(value):
            raise ValueError(must.format(value=value))
        return value

    # The reference pages print a value type's check by its docstring (infra/ops/reference).
    check.__doc__ = what
    return AfterValidator(check)


Digest = Annotated[
    str,
    _matching(
        r"sha256:[0-9a-f]{64}",
        "an image digest: `sha256:` and 64 lowercase hex characters",
        "must be an image digest: 'sha256:' followed by 64 lowercase hex characters (got {value!r}); "
        "tags are never deployed",
    ),
]
YcId = Annotated[
    str,
    _matching(
        r"[a-z][a-z0-9]{19}",
        "a Yandex Cloud id: 20 lowercase letters and digits",
        "must be a Yandex Cloud id: 20 lowercase letters and digits (got {value!r})",
    ),
]
Hostname = Annotated[
    str,
    _matching(
        r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}",
        "a lowercase DNS name",
        "must be a lowercase DNS name such as 'staging.example.ru' (got {value!r})",
    ),
]
Clock = Annotated[
    str,
    _matching(
        r"([01][0-9]|2[0-3]):[0-5][0-9]",
        "a 24-hour time `HH:MM`",
        "must be a 24-hour time HH:MM (got {value!r})",
    ),
]


def _timezone(value: str) -> str:
    """an IANA time zone, e.g. `Europe/Moscow`"""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"must be an IANA time zone such as 'Europe/Moscow' (got {value!r})") from None
    return value


TimeZone = Annotated[str, AfterValidator(_timezone)]
Percent = Annotated[float, Field(gt=0, lt=100)]
Cidr = ipaddress.IPv4Network
# RFC 1918's private ranges: routed nowhere on the internet.
RFC1918_RANGES = tuple(
    ipaddress.IPv4Network(block) for block in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)


def is_private_range(network: ipaddress.IPv4Network) -> bool:
    return any(network.subnet_of(block) for block in RFC1918_RANGES)


def _private_cidr(value: ipaddress.IPv4Network) -> ipaddress.IPv4Network:
    """an address range inside RFC 1918 (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)"""
    if not is_private_range(value):
        raise ValueError(
            f"must be inside RFC 1918's private ranges ({', '.join(map(str, RFC1918_RANGES))}) "
            f"(got {value}): the security groups admit this range to the Kubernetes API and to every "
            "port of the nodes (infra/render/security_rules.py), so a public range opens them to whoever "
            "holds those addresses on the internet"
        )
    return value


# A range the program admits to the master and the nodes as if it were the cluster's own.
PrivateCidr = Annotated[ipaddress.IPv4Network, AfterValidator(_private_cidr)]


class Zone(StrEnum):
    # ru-central1-c was closed by Yandex Cloud; d replaced it.
    A = "ru-central1-a"
    B = "ru-central1-b"
    D = "ru-central1-d"


# Yandex Managed Kubernetes storage classes.
StorageClass = Literal["yc-network-hdd", "yc-network-ssd"]
