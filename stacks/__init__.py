"""Per-stack profiles: what differs between staging and prod, as data.

Each ``<stack>.yaml`` here is validated by ``infra.settings.stack.StackSettings``
together with that stack's ``Pulumi.<stack>.yaml``.
"""

from __future__ import annotations

from pathlib import Path

PROFILES_DIR = Path(__file__).parent

# Stacks whose settings must meet the production rules (zones, HA, paging).
PRODUCTION_STACKS = frozenset({"prod"})


def known_stacks() -> list[str]:
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))


def profile_path(stack: str) -> Path:
    return PROFILES_DIR / f"{stack}.yaml"
