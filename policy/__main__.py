"""The Samokoder CrossGuard policy pack: `pulumi preview --policy-pack policy/`.

The policies are the repository's own validators (infra/policy/), the same
functions `samokoder-infra check` runs offline; this file only wraps them.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# The repository root, for infra.policy (standard library only).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from infra.policy.catalog import POLICIES
from infra.policy.validators import REDACTED


def _hidden(value: Any) -> Any:
    if value is None:
        return None
    # A secret map (a Secret's data) keeps its keys, which name what is held.
    if isinstance(value, Mapping):
        return {str(name): REDACTED for name in value}
    return REDACTED


def _redacted(resource: Any) -> Any:
    """A copy of a resource (validation arguments or a stack's resource), secret inputs as synth shows them.

    CrossGuard hands a validation every secret in plain text, with no mark
    that it was one (pulumi-policy 1.21.0: policy.py:997 and :1049 deserialize
    without proxy_secrets, deserialize.py:65-72 then returns the bare value;
    pulumi/pulumi-policy#241, open, asks for a way). What a resource
    declares secret is public, though: its `additional_secret_outputs`
    (pulumi-kubernetes' Secret class declares `data` and `stringData`:
    pulumi_kubernetes 4.34.2, core/v1/Secret.py:235). Those inputs read here as
    in synth's resources.json, so that the validators judge the same data in
    the pack and offline.
    """
    secret = frozenset(resource.opts.additional_secret_outputs)
    copied = copy.copy(resource)
    copied.props = {key: _hidden(value) if key in secret else value for key, value in resource.props.items()}
    return copied


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

        def resource_validation(args: ResourceValidationArgs, report: ReportViolation) -> None:
            spec.validate(_redacted(args), report)

        return ResourceValidationPolicy(validate=resource_validation, **common)

    def stack_validation(args: StackValidationArgs, report: ReportViolation) -> None:
        copied = copy.copy(args)
        copied.resources = [_redacted(resource) for resource in args.resources]
        spec.validate(copied, report)

    return StackValidationPolicy(validate=stack_validation, **common)


PolicyPack("samokoder", policies=[wrap(spec) for spec in POLICIES])
