"""Payload bookkeeping that never handles a value in the open: what changed, and fingerprints.

A fingerprint is a truncated HMAC of an entry's value under a random salt
kept in the resource's state. It lets a preview say *which* entries change
without showing, or making guessable, what they hold.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

FINGERPRINT_HEX = 12


def new_salt() -> str:
    return secrets.token_hex(16)


def fingerprints(salt: str, payload: Mapping[str, str]) -> dict[str, str]:
    return {
        key: hmac.new(salt.encode(), value.encode(), hashlib.sha256).hexdigest()[:FINGERPRINT_HEX]
        for key, value in sorted(payload.items())
    }


@dataclass(frozen=True)
class PayloadChanges:
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def describe(self) -> str:
        """Entry keys only, e.g. ``changed SECRET_KEY; added SMTP_PASSWORD``."""
        parts = [
            f"{verb} {', '.join(keys)}"
            for verb, keys in (("added", self.added), ("changed", self.changed), ("removed", self.removed))
            if keys
        ]
        return "; ".join(parts) or "no change"


def payload_changes(old: Mapping[str, str], new: Mapping[str, str]) -> PayloadChanges:
    return PayloadChanges(
        added=tuple(sorted(set(new) - set(old))),
        changed=tuple(sorted(key for key in set(old) & set(new) if old[key] != new[key])),
        removed=tuple(sorted(set(old) - set(new))),
    )
