"""What changed in a payload, by entry key, never by value.

Nothing here derives anything from a value that could leave in the open: an
earlier version kept a salt and a truncated HMAC of each value as plain
outputs, from which a dictionary recovered a weak value. Changes are found by
comparing the payloads themselves, which the state holds as secrets.

At preview a payload may be unknown as a whole, or hold entries whose values
are unknown (``infra/providers/yandex/unknowns.py``): an unknown entry counts
as changed (or added).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.providers.yandex.unknowns import is_unknown


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
