"""Turns scenarios into promtool unit-test files."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from tests.infra.render.monitoring.scenarios import AlertKey, Check, Scenario
from tests.infra.render.monitoring.workload import input_series


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


def write_test_files(scenarios: Sequence[Scenario], rule_files: Sequence[Path], out: Path) -> list[Path]:
    """One file per evaluation interval (promtool sets it per file)."""
    by_interval: dict[int, list[Scenario]] = defaultdict(list)
    for scenario in scenarios:
        by_interval[scenario.evaluation_minutes].append(scenario)
    paths = []
    for minutes, group in sorted(by_interval.items()):
        document = {
            "rule_files": [str(p) for p in rule_files],
            "evaluation_interval": f"{minutes}m",
            "tests": [_test_group(s) for s in group],
        }
        path = out / f"tests-every-{minutes}m.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False, width=200))
        paths.append(path)
    return paths
