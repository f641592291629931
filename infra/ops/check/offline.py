"""`samokoder-infra check`: the policy pack's validators run on a synthesized stack, no CLI needed.

Each synthesized resource is handed to the validators in the shape
CrossGuard gives them (``resource_type``, ``props``, ``urn``, ``name``,
``opts.protect``, ``get_config()``), so the offline check and `pulumi
preview --policy-pack policy/` judge with the same functions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from infra.ops.synth.mocks import RecordedResource
from infra.policy.catalog import POLICIES, Enforcement, Policy, defaults


@dataclass(frozen=True)
class Violation:
    policy: str
    enforcement: Enforcement
    resource: str
    urn: str
    message: str


@dataclass(frozen=True)
class _Options:
    protect: bool


@dataclass(frozen=True)
class _ResourceArgs:
    resource_type: str
    props: Mapping[str, Any]
    urn: str
    name: str
    opts: _Options
    config: Mapping[str, Any] = field(default_factory=dict)

    def get_config(self) -> Mapping[str, Any]:
        return self.config


@dataclass(frozen=True)
class _StackArgs:
    resources: list[_ResourceArgs]
    config: Mapping[str, Any] = field(default_factory=dict)

    def get_config(self) -> Mapping[str, Any]:
        return self.config


def _as_args(resource: RecordedResource, config: Mapping[str, Any]) -> _ResourceArgs:
    return _ResourceArgs(
        resource.type, resource.inputs, resource.urn, resource.name, _Options(resource.protect), config
    )


def check(resources: Sequence[RecordedResource], config: Mapping[str, Mapping[str, Any]]) -> list[Violation]:
    """Every violation of every policy; `config` is per policy, as in a policy pack config file."""
    checked = [r for r in resources if r.custom and not r.type.startswith("pulumi:providers:")]
    by_urn = {r.urn: r for r in checked}
    violations: list[Violation] = []
    for policy in POLICIES:
        settings = {**defaults(policy), **(config.get(policy.name) or {})}
        settings.pop("enforcementLevel", None)

        def report(
            message: str, urn: str | None = None, *, policy: Policy = policy, default: str = ""
        ) -> None:
            target = urn or default
            name = by_urn[target].name if target in by_urn else target
            violations.append(Violation(policy.name, policy.enforcement, name, target, message))

        if policy.kind == "resource":
            for resource in checked:
                args = _as_args(resource, settings)
                try:
                    policy.validate(
                        args, lambda message, urn=None, r=resource: report(message, urn, default=r.urn)
                    )
                except (TypeError, AttributeError, KeyError, ValueError) as error:
                    raise ShapeError(policy.name, resource.urn, error) from None
        else:
            stack = _StackArgs([_as_args(r, settings) for r in checked], settings)
            try:
                policy.validate(stack, report)
            except (TypeError, AttributeError, KeyError, ValueError) as error:
                raise ShapeError(policy.name, "the stack", error) from None
    return violations


class ShapeError(ValueError):
    """A resource's inputs have a shape a policy cannot read (not what synth or an engine writes)."""

    def __init__(self, policy: str, where: str, error: Exception) -> None:
        super().__init__(f"{where}: inputs of a shape {policy} cannot read ({type(error).__name__}: {error})")


def load_resources(path: Path) -> list[RecordedResource]:
    """The resources of a resources.json in synth's format; ValueError names what is wrong."""
    document = json.loads(path.read_text())
    if not isinstance(document, list):
        raise ValueError(f"{path}: expected a list of resources, as synth writes resources.json")
    resources = []
    for index, entry in enumerate(document):
        if not isinstance(entry, dict) or not {"urn", "type", "inputs"} <= set(entry):
            raise ValueError(f"{path}: resource {index} lacks urn, type or inputs")
        resources.append(
            RecordedResource(
                urn=str(entry["urn"]),
                type=str(entry["type"]),
                name=str(entry.get("name") or entry["urn"].rsplit("::", 1)[-1]),
                parent=str(entry.get("parent") or ""),
                provider=str(entry.get("provider") or ""),
                custom=bool(entry.get("custom", True)),
                protect=bool(entry.get("protect", False)),
                dependencies=tuple(entry.get("dependencies") or ()),
                inputs=dict(entry["inputs"] or {}),
                ignore_changes=tuple(entry.get("ignore_changes") or ()),
            )
        )
    return resources


def mandatory(violations: Sequence[Violation]) -> list[Violation]:
    return [v for v in violations if v.enforcement == "mandatory"]


def write_report(violations: Sequence[Violation], stack: str, out: Path) -> Path:
    path = out / "policy-report.json"
    report = {
        "stack": stack,
        "policies": [
            {"name": p.name, "enforcement": p.enforcement, "description": p.description} for p in POLICIES
        ],
        "violations": [asdict(v) for v in violations],
        "mandatory_violations": len(mandatory(violations)),
    }
    path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    return path


def table(violations: Sequence[Violation]) -> str:
    lines = [f"{'policy':<26} {'level':<10} {'result':<8} details"]
    for policy in POLICIES:
        found = [v for v in violations if v.policy == policy.name]
        result = "pass" if not found else ("FAIL" if policy.enforcement == "mandatory" else "warn")
        lines.append(f"{policy.name:<26} {policy.enforcement:<10} {result:<8} {len(found)} violation(s)")
        lines += [f"    - {v.message}" for v in found]
    return "\n".join(lines)
