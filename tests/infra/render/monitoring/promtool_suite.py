"""Turns scenarios into promtool unit-test files."""

from __future__ import annotations

import math
import subprocess
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.infra.render.monitoring.scenarios import AlertKey, Check, Scenario
from tests.infra.render.monitoring.workload import input_series
from tests.tools import tool


def _firing(key: AlertKey) -> str:
    name, severity = key
    return f'ALERTS{{alertname="{name}", severity="{severity}", alertstate="firing"}}'


def _expr_tests(check: Check) -> list[dict[str, Any]]:
    at = f"{check.at_minutes}m"
    tests: list[dict[str, Any]] = [
        # Present, whatever its labels: at least one such alert fires.
        {"expr": f"clamp_max(count({_firing(key)}), 1)", "eval_time": at, "exp_samples": [{"value": 1}]}
        for key in sorted(check.firing)
    ]
    tests += [{"expr": _firing(key), "eval_time": at, "exp_samples": []} for key in sorted(check.quiet)]
    if check.only is not None:
        allowed = "|".join(sorted(check.only))
        tests.append(
            {
                "expr": f'ALERTS{{alertstate="firing", alertname!~"{allowed}"}}',
                "eval_time": at,
                "exp_samples": [],
            }
        )
    return tests


def _test_group(scenario: Scenario) -> dict[str, Any]:
    return {
        "name": scenario.name,
        "interval": f"{scenario.step_minutes}m",
        "input_series": input_series(scenario.phases, scenario.step_minutes),
        "promql_expr_test": [t for check in scenario.checks for t in _expr_tests(check)],
    }


def evaluations(scenario: Scenario) -> int:
    """How many times promtool evaluates every rule for the scenario (up to its last check)."""
    return max(check.at_minutes for check in scenario.checks) // scenario.evaluation_minutes + 1


def _parts(scenarios: Sequence[Scenario], most: int | None) -> list[list[Scenario]]:
    """The scenarios in as few parts of about ``most`` evaluations as they fill, the parts even."""
    count = 1 if most is None else max(1, math.ceil(sum(map(evaluations, scenarios)) / most))
    parts: list[list[Scenario]] = [[] for _ in range(count)]
    for scenario in sorted(scenarios, key=evaluations, reverse=True):
        min(parts, key=lambda part: sum(map(evaluations, part))).append(scenario)
    # Each part keeps the scenarios' own order.
    return [sorted(part, key=scenarios.index) for part in parts if part]


@dataclass(frozen=True)
class PromtoolFile:
    path: Path
    # Its test groups: the scenarios' names.
    groups: tuple[str, ...]
    evaluations: int


def write_test_files(
    scenarios: Sequence[Scenario],
    rule_files: Sequence[Path],
    out: Path,
    evaluations_per_file: int | None = None,
) -> list[PromtoolFile]:
    """One file per evaluation interval (promtool sets it per file), or, with ``evaluations_per_file``,
    as many as it takes to keep each near that many evaluations, so that they can run side by side.
    """
    by_interval: dict[int, list[Scenario]] = defaultdict(list)
    for scenario in scenarios:
        by_interval[scenario.evaluation_minutes].append(scenario)
    files = []
    for minutes, group in sorted(by_interval.items()):
        for number, part in enumerate(_parts(group, evaluations_per_file), start=1):
            document = {
                "rule_files": [str(p) for p in rule_files],
                "evaluation_interval": f"{minutes}m",
                "tests": [_test_group(s) for s in part],
            }
            path = out / f"tests-every-{minutes}m-{number}.yaml"
            # libyaml when there is one: these files are large.
            dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
            path.write_text(yaml.dump(document, Dumper=dumper, sort_keys=False, width=200))
            files.append(PromtoolFile(path, tuple(s.name for s in part), sum(map(evaluations, part))))
    return files


@dataclass(frozen=True)
class PromtoolRun:
    file: PromtoolFile
    returncode: int
    output: str


def run_promtool_tests(file: PromtoolFile) -> PromtoolRun:
    result = subprocess.run(
        [str(tool("promtool")), "test", "rules", str(file.path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    return PromtoolRun(file, result.returncode, result.stdout)
