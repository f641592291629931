"""The policy reference: every policy of the catalog with its enforcement, scope and configuration."""

from __future__ import annotations

import json

from infra.ops.reference.markdown import code, table
from infra.policy.catalog import POLICIES, Policy


def _configuration(policy: Policy) -> str:
    parts = []
    for key, spec in policy.config.items():
        default = f" (default {code(json.dumps(spec['default']))})" if "default" in spec else ""
        parts.append(f"{code(key)}{default}: {spec.get('description', '')}")
    return "; ".join(parts) or "none"


def policies_table() -> str:
    rows = [
        (
            code(p.name),
            p.enforcement,
            "each resource" if p.kind == "resource" else "the whole stack",
            p.description,
            _configuration(p),
        )
        for p in POLICIES
    ]
    return table(("policy", "enforcement", "judges", "what it requires", "configuration"), rows)


def counts() -> str:
    mandatory = sum(1 for p in POLICIES if p.enforcement == "mandatory")
    return f"{len(POLICIES)} policies: {mandatory} mandatory, {len(POLICIES) - mandatory} advisory.\n"
