"""Alert and recording rules, checked and unit-tested by the real promtool."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from concurrent.futures import Future

import pytest

from infra.render.monitoring.contract import RUNBOOK_BASE_URL
from tests.conftest import PROJECT_DIR
from tests.infra.render.monitoring.fixtures import INSTRUMENTED, VARIANTS, Written, group_alerts, scenarios_of
from tests.infra.render.monitoring.promtool_suite import PromtoolRun
from tests.tools import tool

RUNBOOK = PROJECT_DIR / "docs" / "runbooks" / "alerts.md"


@pytest.mark.tool
@pytest.mark.parametrize("stack", VARIANTS)
def test_promtool_accepts_every_rule_file(written: Callable[[str], Written], stack: str) -> None:
    paths = written(stack).rule_paths
    assert len(paths) == len(written(stack).artifacts.rule_files)
    result = subprocess.run(
        [str(tool("promtool")), "check", "rules", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("stack", VARIANTS)
def test_every_alert_has_a_scenario_where_it_fires_and_one_where_it_is_quiet(
    written: Callable[[str], Written], stack: str
) -> None:
    w = written(stack)
    # The instrumented variant runs only its groups' scenarios (and the healthy platform).
    keys = (
        w.alert_keys if stack != INSTRUMENTED else group_alerts(w, written("prod")) | {("Watchdog", "none")}
    )
    scenarios = scenarios_of(stack, written)
    fired = {key for s in scenarios for c in s.checks for key in c.firing}
    quiet = {key for s in scenarios for c in s.checks for key in c.quiet}
    assert keys - fired == set(), "alerts no scenario makes fire"
    # Watchdog always fires: that is its job.
    assert keys - quiet == {("Watchdog", "none")}, "alerts no scenario keeps quiet"
    assert (fired | quiet) - w.alert_keys == set(), "scenarios name alerts the rules do not have"


@pytest.mark.tool
@pytest.mark.parametrize("stack", VARIANTS)
def test_promtool_unit_tests_pass(
    written: Callable[[str], Written], promtool_runs: dict[str, list[Future[PromtoolRun]]], stack: str
) -> None:
    # The files run side by side from the start of the session (fixtures.py).
    runs = [future.result() for future in promtool_runs[stack]]
    ran = sorted(group for run in runs for group in run.file.groups)
    assert ran == sorted(s.name for s in scenarios_of(stack, written)), "scenarios promtool missed"
    failed = [f"{run.file.path.name}:\n{run.output}" for run in runs if run.returncode != 0]
    assert not failed, "\n".join(failed)
    assert all("SUCCESS" in run.output for run in runs)


@pytest.mark.parametrize("stack", VARIANTS)
def test_every_alert_is_labelled_annotated_and_has_a_runbook_section(
    written: Callable[[str], Written], stack: str
) -> None:
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", line[3:].strip().lower()).replace(" ", "-")
        for line in RUNBOOK.read_text().splitlines()
        if line.startswith("## ")
    }
    for rule_file in written(stack).artifacts.rule_files:
        for group in rule_file.render()["groups"]:
            for rule in group["rules"]:
                if "alert" not in rule:
                    continue
                assert rule["labels"]["severity"] in {"critical", "warning", "info", "none"}
                annotations = rule["annotations"]
                assert annotations["summary"], rule["alert"]
                assert annotations["description"], rule["alert"]
                url = annotations["runbook_url"]
                assert url.startswith(RUNBOOK_BASE_URL + "#")
                assert url.partition("#")[2] in anchors, f"{rule['alert']}: no section in {RUNBOOK.name}"
