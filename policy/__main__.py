"""The Samokoder CrossGuard policy pack: `pulumi preview --policy-pack policy/`.

The policies are the repository's own validators (infra/policy/), the same
functions `samokoder-infra check` runs offline; this file only wraps them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

# The repository root, for infra.policy (standard library only).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pulumi_policy.policy as _analyzer
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyPack,
    ResourceValidationPolicy,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY

from infra.policy.catalog import POLICIES
from infra.policy.validators import REDACTED

_deserialize = _analyzer.deserialize_properties


def _redacted(node: Any) -> Any:
    """What the engine marks secret, as synth writes it: the validators judge the same data both ways."""
    if isinstance(node, dict):
        if node.get(SPECIAL_SIG_KEY) == SPECIAL_SECRET_SIG:
            return REDACTED
        return {key: _redacted(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_redacted(value) for value in node]
    return node


def _deserialize_redacted(props: dict[str, Any], proxy_secrets: bool = False) -> dict[str, Any]:
    # Remediations (proxy_secrets) must keep secrets; validations never need their values.
    return _deserialize(props if proxy_secrets else _redacted(props), proxy_secrets)


_analyzer.deserialize_properties = _deserialize_redacted

LEVELS = {"mandatory": EnforcementLevel.MANDATORY, "advisory": EnforcementLevel.ADVISORY}


def wrap(spec: Any) -> Policy:
    common: dict[str, Any] = {
        "name": spec.name,
        "description": spec.description,
        "enforcement_level": LEVELS[spec.enforcement],
    }
    if spec.config:
        common["config_schema"] = PolicyConfigSchema(properties=spec.config)
    if spec.kind == "resource":
        return ResourceValidationPolicy(validate=spec.validate, **common)
    return StackValidationPolicy(validate=spec.validate, **common)


PolicyPack("samokoder", policies=[wrap(spec) for spec in POLICIES])
