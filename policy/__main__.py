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

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyPack,
    ResourceValidationPolicy,
    StackValidationPolicy,
)

from infra.policy.catalog import POLICIES

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
