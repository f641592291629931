"""Payload bookkeeping that never handles a value in the open: what changed, and fingerprints.

A fingerprint is a truncated HMAC of an entry's value under a random salt
kept in the resource's state. It lets a preview say *which* entries change
without showing, or making guessable, what they hold.

At preview a payload may be unknown as a whole, or hold entries whose values
are unknown (``infra/providers/yandex/unknowns.py``): no fingerprint is made
of an unknown, and an unknown entry counts as changed (or added).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.providers.yandex.unknowns import UNKNOWN, is_unknown

FINGERPRINT_HEX = 12


def new_salt() -> str:
    return secrets.token_hex(16)


def fingerprints(salt: str, payload: Mapping[str, Any] | Any) -> dict[str, Any] | Any:
    """Entry key -> fingerprint; unknown where the value is unknown, and unknown for an unknown payload."""
    if is_unknown(payload):
        return UNKNOWN
    return {
        key: UNKNOWN
        if is_unknown(value)
        else hmac.new(salt.encode(), value.encode(), hashlib.sha256).hexdigest()[:FINGERPRINT_HEX]
        for key, value in sorted(payload.items())
    }


@dataclass(frozen=True)
class PayloadChanges:
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    # The new payload is not known at all yet (preview): what changes shows at apply.
    unknown: bool = False

    def __bool__(self) -> bool:
        return bool(self.unknown or self.added or self.changed or self.removed)

    def describe(self) -> str:
        """Entry keys only, e.g. ``changed SECRET_KEY; added SMTP_PASSWORD``."""
        if self.unknown:
            return "entries known only at apply"
        parts = [
            f"{verb} {', '.join(keys)}"
            for verb, keys in (("added", self.added), ("changed", self.changed), ("removed", self.removed))
            if keys
        ]
        return "; ".join(parts) or "no change"


def payload_changes(old: Mapping[str, Any], new: Mapping[str, Any] | Any) -> PayloadChanges:
    """What differs between two payloads; an entry whose new value is unknown counts as changed."""
    if is_unknown(new) or is_unknown(old):
        return PayloadChanges(unknown=True)
    return PayloadChanges(
        added=tuple(sorted(set(new) - set(old))),
        changed=tuple(
            sorted(
                key
                for key in set(old) & set(new)
                if is_unknown(new[key]) or is_unknown(old[key]) or old[key] != new[key]
            )
        ),
        removed=tuple(sorted(set(old) - set(new))),
    )
