"""The monitoring summary of a pull request, on real synth output with a change made to it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import yaml

from infra.ops.synth.monitoring_diff import report, summarize
from infra.ops.synth.runner import Synthesis
from infra.ops.synth.writer import write_synthesis

Synth = Callable[[str], Synthesis]


def test_unchanged_builds_say_so_and_changes_are_named(synthesized: Synth, tmp_path: Path) -> None:
    base = tmp_path / "base" / "staging"
    write_synthesis(synthesized("staging"), base)
    head = tmp_path / "head" / "staging"
    shutil.copytree(base, head)
    assert summarize(base, head) == []
    assert "No change to alerts, rules or dashboards." in report(tmp_path / "base", tmp_path / "head")

    # A change: one alert's expression, one alert gone, one panel added.
    rules_path = head / "monitoring" / "rules" / "api.yaml"
    rules = yaml.safe_load(rules_path.read_text())
    api_rules = rules["groups"][0]["rules"]
    latency = next(
        r for r in api_rules if r.get("alert") == "ApiLatencyHigh" and r["labels"]["severity"] == "warning"
    )
    latency["expr"] = latency["expr"].replace("> 2", "> 1.5")
    api_rules.remove(next(r for r in api_rules if r.get("alert") == "ApiNoTraffic"))
    rules_path.write_text(yaml.safe_dump(rules))
    board_path = next((head / "monitoring" / "dashboards").glob("samokoder-golden-signals.json"))
    board = json.loads(board_path.read_text())
    board["panels"].append({"title": "Queue wait", "type": "timeseries"})
    board_path.write_text(json.dumps(board))

    lines = summarize(base, head)
    assert "- removed alert `ApiNoTraffic` (warning)" in lines
    assert "- changed alert `ApiLatencyHigh` (warning): expr" in lines
    assert any(
        line.startswith("- changed dashboard **") and "panels added: Queue wait" in line for line in lines
    )
    assert len(lines) == 3
