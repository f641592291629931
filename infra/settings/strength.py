"""Strength rules for the secrets operators provide; a weak one fails before anything is created.

Each provided secret's rule is part of its declaration (``PROVIDED_SECRETS`` in
``infra/settings/secrets.py``); this module says what any rule checks.

Messages say what is wrong with a value and never repeat it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Values seen as placeholders in examples, defaults and the audited CI
# (its hard-coded test keys), compared case-insensitively.
KNOWN_WEAK = frozenset(
    {
        "admin",
        "password",
        "passw0rd",
        "secret",
        "changeme",
        "change_me",
        "test",
        "example",
        "default",
        "123456",
        "qwerty",
        "test-secret-key-minimum-32-characters-long-for-testing-purposes",  # pragma: allowlist secret
        "test-app-secret-key-minimum-32-characters-long-for-testing",  # pragma: allowlist secret
    }
)
PLACEHOLDER = re.compile(r"^(change[-_]?me|todo|fixme|your[-_]|replace[-_]?me|xxx|<.*>$|\$\{)", re.IGNORECASE)


@dataclass(frozen=True)
class Rule:
    """What a provided secret must look like."""

    min_length: int
    what: str
    pattern: str | None = None

    def problem(self, value: str) -> str | None:
        """Why ``value`` is not acceptable, or None; never quotes the value."""
        checks = (
            (value.strip() != value, "has leading or trailing whitespace (a copy-paste slip?)"),
            (value.lower() in KNOWN_WEAK, "is a well-known placeholder or test value, not a real secret"),
            (
                bool(PLACEHOLDER.search(value)),
                "looks like a placeholder (change-me, your-..., <...>), not a real secret",
            ),
            (
                len(value) < self.min_length,
                f"is {len(value)} characters long; {self.what} needs at least {self.min_length}",
            ),
            (len(set(value)) < 5, "repeats too few distinct characters to be a real secret"),
            (bool(self.pattern and not re.fullmatch(self.pattern, value)), f"does not look like {self.what}"),
        )
        return next((reason for failed, reason in checks if failed), None)
