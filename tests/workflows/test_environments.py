"""Two clouds, one GitHub environment each: every job that touches a stack declares its environment,
reads the same secret names there, and prod's jobs run where prod's API can be reached.

Releases are built from the app commit the contract was read at, never from a branch.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.app_contract import APP_COMMIT, APP_REPOSITORY
from tests.cli_runner import samokoder_infra
from tests.conftest import PROJECT_DIR

WORKFLOWS = PROJECT_DIR / ".github" / "workflows"
SCRIPTS = PROJECT_DIR / "scripts"
# Commands that read only the checkout: they need no stack, no credential.
OFFLINE_COMMANDS = frozenset(
    {"synth", "check", "diff", "monitoring-diff", "migration-revision", "app-commit", "scan-verdict"}
)
PULUMI_ON_A_STACK = re.compile(r"\bpulumi (login|up|preview|refresh|destroy|stack|config|cancel|import)\b")
INFRA_COMMAND = re.compile(r"\bsamokoder-infra ([a-z-]+)")
STACK_ENVIRONMENTS = {("staging", "staging"), ("prod", "production"), ("prod", "production-preview")}
HOSTED = ["ubuntu-latest"]


def load(directory: Path) -> dict[str, dict[Any, Any]]:
    return {path.name: yaml.safe_load(path.read_text()) for path in sorted(directory.glob("*.yml"))}


def stack_touches(job: dict[str, Any]) -> list[str]:
    """Why a job touches a stack: stack secrets, a Pulumi operation, a command against a stack."""
    reasons = [
        f"secret {name}"
        for name in sorted(set(re.findall(r"secrets\.([A-Za-z_]+)", yaml.safe_dump(job))))
        if name != "GITHUB_TOKEN"
    ]
    if "secrets" in job:
        reasons.append("passes secrets to a reusable workflow")
    for step in job.get("steps", []):
        if str(step.get("uses", "")).startswith("pulumi/actions@") and "command" in step.get("with", {}):
            reasons.append(f"pulumi/actions {step['with']['command']}")
        run = str(step.get("run", ""))
        reasons += [f"pulumi {m}" for m in PULUMI_ON_A_STACK.findall(run)]
        reasons += [f"samokoder-infra {c}" for c in INFRA_COMMAND.findall(run) if c not in OFFLINE_COMMANDS]
    return reasons


def jobs_without_environment(workflows: dict[str, dict[Any, Any]]) -> list[str]:
    """Every job that touches a stack and names no GitHub environment (or, calling a reusable
    workflow, passes it none), as `file: job`."""
    missing = []
    for name, workflow in workflows.items():
        for job_name, job in workflow["jobs"].items():
            if not stack_touches(job):
                continue
            # A job that calls a reusable workflow cannot name one; it passes it in.
            named = job.get("with", {}).get("environment") if "uses" in job else job.get("environment")
            if not named:
                missing.append(f"{name}: {job_name}")
    return missing


def test_every_job_that_touches_a_stack_names_its_environment() -> None:
    workflows = load(WORKFLOWS)
    touching = {(n, j) for n, w in workflows.items() for j, job in w["jobs"].items() if stack_touches(job)}
    # The detector sees the jobs that do touch a stack (and leaves the offline ones alone).
    assert {("pr.yml", "preview"), ("main.yml", "images"), ("deploy-stack.yml", "deploy")} <= touching
    assert not {("pr.yml", "test"), ("pr.yml", "synth"), ("pr.yml", "monitoring")} & touching
    assert jobs_without_environment(workflows) == []
    # Secrets are read in jobs, where the environment's own are: never at the workflow's top.
    for name, workflow in workflows.items():
        assert "secrets." not in yaml.safe_dump(workflow.get("env", {})), name


@pytest.mark.parametrize(
    ("file", "job", "breaks"),
    [
        ("pr.yml", "preview", lambda job: job.pop("environment")),
        ("backup-drill.yml", "prod", lambda job: job.pop("environment")),
        ("deploy-stack.yml", "deploy", lambda job: job.pop("environment")),
        ("main.yml", "prod", lambda job: job["with"].pop("environment")),
    ],
)
def test_a_broken_copy_of_a_workflow_fails_the_check(
    tmp_path: Path, file: str, job: str, breaks: Any
) -> None:
    workflows = load(WORKFLOWS)
    broken = copy.deepcopy(workflows[file])
    breaks(broken["jobs"][job])
    for name, workflow in workflows.items():
        (tmp_path / name).write_text(yaml.safe_dump(broken if name == file else workflow))
    assert jobs_without_environment(load(tmp_path)) == [f"{file}: {job}"]


def stack_environment_pairs() -> set[tuple[str, str]]:
    """(stack, environment) of every job that touches a stack, read from where each job says it."""
    w = load(WORKFLOWS)
    pairs = {
        (job["with"]["stack"], job["with"]["environment"])
        for job in w["main.yml"]["jobs"].values()
        if "uses" in job
    }
    pairs |= {
        (i["stack"], i["environment"])
        for i in w["pr.yml"]["jobs"]["preview"]["strategy"]["matrix"]["include"]
    }
    chosen = re.fullmatch(
        r"\$\{\{ inputs\.stack == 'prod' && '([a-z-]+)' \|\| '([a-z-]+)' \}\}",
        w["rollback.yml"]["jobs"]["rollback"]["environment"],
    )
    assert chosen
    pairs |= {("prod", chosen[1]), ("staging", chosen[2])}
    for stack, drill in w["backup-drill.yml"]["jobs"].items():
        assert drill["env"]["STACK"] == stack
        assert any('samokoder-infra restore-drill "$STACK"' in s.get("run", "") for s in drill["steps"])
        pairs.add((stack, drill["environment"]))
    images = w["main.yml"]["jobs"]["images"]
    assert "--stack staging" in "".join(s.get("run", "") for s in images["steps"])
    pairs.add(("staging", images["environment"]))
    return pairs


def test_each_stack_reads_its_own_environment() -> None:
    assert stack_environment_pairs() == STACK_ENVIRONMENTS


def printed_secret_names(*args: str) -> set[str]:
    result = subprocess.run(
        [str(SCRIPTS / "bootstrap"), "--dry-run", *args], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return set(re.findall(r"^  ([A-Z_]+) ", result.stdout, re.M))


def test_the_workflows_read_exactly_the_secrets_bootstrap_tells_each_environment_to_hold() -> None:
    staging = printed_secret_names(
        "--folder-id", "b1gstaging", "--environment", "staging", "--registry-puller", "production"
    )
    prod = printed_secret_names("--folder-id", "b1gprod", "--environment", "production")
    read = {
        name
        for path in WORKFLOWS.glob("*.yml")
        for name in re.findall(r"secrets\.([A-Za-z_]+)", path.read_text())
        if name != "GITHUB_TOKEN"
    }
    assert read == staging | prod
    # Per environment by the same names: only the puller's key and staging's registry are named for
    # where they come from.
    assert staging - {"STAGING_REGISTRY_PULL_KEY", "STAGING_REGISTRY"} == prod


def prod_runner_labels() -> list[str]:
    result = subprocess.run(
        [str(SCRIPTS / "bootstrap-runner"), "--dry-run", "--folder-id", "b1g", "--github-repo", "o/r"],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "RUNNER_REGISTRATION_TOKEN": "T0KEN"},
    )
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if line.strip().startswith("runs-on: ")]
    labels: list[str] = json.loads(line.split("runs-on: ", 1)[1])
    return labels


def test_every_prod_job_runs_on_prods_runner_and_staging_on_githubs() -> None:
    prod = prod_runner_labels()
    assert prod[:3] == ["self-hosted", "linux", "x64"]
    w = load(WORKFLOWS)
    main = w["main.yml"]["jobs"]
    assert json.loads(main["prod"]["with"]["runs_on"]) == prod
    assert json.loads(main["staging"]["with"]["runs_on"]) == HOSTED
    assert w["deploy-stack.yml"]["jobs"]["deploy"]["runs-on"] == "${{ fromJSON(inputs.runs_on) }}"
    preview = w["pr.yml"]["jobs"]["preview"]
    assert preview["runs-on"] == "${{ fromJSON(matrix.runs_on) }}"
    runners = {i["stack"]: json.loads(i["runs_on"]) for i in preview["strategy"]["matrix"]["include"]}
    assert runners == {"prod": prod, "staging": HOSTED}
    rollback = re.fullmatch(
        r"\$\{\{ fromJSON\(inputs\.stack == 'prod' && '(\[.*?\])' \|\| '(\[.*?\])'\) \}\}",
        w["rollback.yml"]["jobs"]["rollback"]["runs-on"],
    )
    assert rollback
    assert (json.loads(rollback[1]), json.loads(rollback[2])) == (prod, HOSTED)
    # Each stack's drill runs where its API admits: prod's runner, GitHub's for staging.
    drills = w["backup-drill.yml"]["jobs"]
    prods = re.fullmatch(r"\$\{\{ fromJSON\('(\[.*?\])'\) \}\}", drills["prod"]["runs-on"])
    assert prods
    assert (json.loads(prods[1]), drills["staging"]["runs-on"]) == (prod, HOSTED[0])


def test_the_build_checks_out_the_app_commit_the_contract_was_read_at() -> None:
    w = load(WORKFLOWS)
    assert "app_ref" not in w["main.yml"][True]["workflow_dispatch"].get("inputs", {})
    for path in WORKFLOWS.glob("*.yml"):
        assert "APP_REPOSITORY" not in path.read_text(), (
            f"{path.name}: the repository comes from the contract"
        )
    steps = w["main.yml"]["jobs"]["images"]["steps"]
    (app,) = [s for s in steps if s.get("with", {}).get("path") == "app"]
    reader = next(s for s in steps if s.get("id") == "app")
    assert steps.index(reader) < steps.index(app)
    # Run the step's own command and resolve the checkout's inputs with what it prints.
    command = reader["run"].split("\n", 1)[1].strip()
    assert re.fullmatch(r'\S*samokoder-infra app-commit >> "\$GITHUB_OUTPUT"', command)
    printed = samokoder_infra(PROJECT_DIR, "app-commit")
    outputs = dict(line.split("=", 1) for line in printed.stdout.splitlines())

    def resolve(value: str) -> str:
        return re.sub(r"\$\{\{ steps\.app\.outputs\.(\w+) \}\}", lambda m: outputs[m[1]], value)

    assert resolve(app["with"]["ref"]) == APP_COMMIT
    assert resolve(app["with"]["repository"]) == APP_REPOSITORY
    # The checkout is verified to be that commit, and that commit is what the release records.
    verify = steps[steps.index(app) + 1]
    assert 'test "$(git -C app rev-parse HEAD)" = "$APP_COMMIT"' in verify["run"]
    assert resolve(verify["env"]["APP_COMMIT"]) == APP_COMMIT
    release = next(s for s in steps if s.get("id") == "release")
    assert resolve(release["env"]["APP_COMMIT"]) == APP_COMMIT
    assert 'echo "app_commit=$APP_COMMIT"' in release["run"]


def test_prod_copies_staging_images_with_the_pull_only_key_and_its_own_apart() -> None:
    deploy = load(WORKFLOWS)["deploy-stack.yml"]["jobs"]["deploy"]
    copy_step = next(s for s in deploy["steps"] if s.get("name") == "Images into this stack's registry")
    run = copy_step["run"]
    assert copy_step["env"]["SOURCE_PULL_KEY"] == "${{ secrets.STAGING_REGISTRY_PULL_KEY }}"
    # Two identities for one registry host: one auth file each, none on a command line.
    assert re.search(r"skopeo copy --all --preserve-digests \\\n\s+--src-authfile \S*source-auth\.json", run)
    assert '--dest-authfile "$RUNNER_TEMP/dest-auth.json"' in run
    assert 'YC_SERVICE_ACCOUNT_KEY_FILE="$RUNNER_TEMP/source-key.json"' in run
    assert "docker login" not in run
    assert "--src-creds" not in run
    assert "--dest-creds" not in run
