"""Restore planning and the restore command: a new cluster from the backups, never over the running one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from infra.ops.synth.runner import synthesize
from infra.render.database.restore import RestoreError, plan_restore
from infra.settings import load_settings
from infra.settings.stack import StackSettings
from tests.cli_runner import samokoder_infra
from tests.conftest import stack_file_values, write_project
from tests.crd_schemas import crd_problems

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def settings(stack: str) -> StackSettings:
    return load_settings(stack, stack_file_values(stack), offline=True)


def test_a_point_in_time_plan_renders_a_valid_recovery_cluster_named_after_the_target() -> None:
    target = NOW - timedelta(hours=3)
    plan = plan_restore(settings("prod"), into=None, target_time=target, now=NOW)
    assert plan.request.into == "samokoder-db-restore-20261126-0900"
    assert crd_problems(plan.manifest) == []
    recovery = plan.manifest["spec"]["bootstrap"]["recovery"]
    assert recovery["recoveryTarget"] == {"targetTime": target.isoformat()}
    assert plan.manifest["spec"]["instances"] == 3


def test_without_a_target_the_plan_recovers_to_the_latest_point() -> None:
    plan = plan_restore(settings("staging"), into="drill", target_time=None, now=NOW)
    assert "recoveryTarget" not in plan.manifest["spec"]["bootstrap"]["recovery"]
    assert plan.manifest["metadata"]["name"] == "drill"


def test_the_planned_urn_is_the_one_the_program_registers(tmp_path: Path) -> None:
    plan = plan_restore(settings("staging"), into="drill", target_time=None, now=NOW)
    config = {**stack_file_values("staging"), "restore": {"into": "drill"}}
    synthesis = synthesize("staging", write_project(tmp_path, "staging", config))
    registered = {r.urn for r in synthesis.of_type("kubernetes:postgresql.cnpg.io/v1:Cluster")}
    assert plan.urn in registered
    (created,) = (
        r for r in synthesis.of_type("kubernetes:postgresql.cnpg.io/v1:Cluster") if r.urn == plan.urn
    )
    assert created.inputs["spec"] == plan.manifest["spec"]


@pytest.mark.parametrize(
    ("stack", "into", "target", "expected"),
    [
        (
            "staging",
            None,
            NOW + timedelta(minutes=5),
            "--target-time 2026-11-26T12:05:00+00:00 is in the future",
        ),
        ("staging", None, NOW - timedelta(days=8), "older than the stack's 7-day backup retention"),
        ("prod", None, NOW - timedelta(days=31), "older than the stack's 30-day backup retention"),
        ("staging", None, datetime(2026, 11, 26, 10, 0), "--target-time: must carry a UTC offset"),
        ("staging", "samokoder-db", None, "--into: must not be 'samokoder-db'"),
        ("staging", "Restore_1", None, "--into: String should match pattern"),
    ],
    ids=[
        "future",
        "older than staging retention",
        "older than prod retention",
        "no offset",
        "running cluster",
        "bad name",
    ],
)
def test_bad_restore_requests_are_refused_with_the_argument_named(
    stack: str, into: str | None, target: datetime | None, expected: str
) -> None:
    with pytest.raises(RestoreError) as caught:
        plan_restore(settings(stack), into=into, target_time=target, now=NOW)
    assert expected in str(caught.value)


def test_the_command_writes_the_manifest_and_applies_nothing_without_apply(tmp_path: Path) -> None:
    project = write_project(tmp_path, "staging", stack_file_values("staging"))
    result = samokoder_infra(project, "restore", "staging", "--into", "drill")
    assert result.returncode == 0, result.stderr
    manifest = yaml.safe_load((project / "build" / "staging" / "restore" / "drill.yaml").read_text())
    assert crd_problems(manifest) == []
    assert "nothing applied" in result.stdout


def test_apply_without_the_pulumi_cli_fails_clearly_and_leaves_the_stack_file_alone(tmp_path: Path) -> None:
    project = write_project(tmp_path, "staging", stack_file_values("staging"))
    before = (project / "Pulumi.staging.yaml").read_text()
    result = samokoder_infra(project, "restore", "staging", "--into", "drill", "--apply")
    assert result.returncode == 1
    assert "the pulumi CLI is not on PATH" in result.stderr
    assert (project / "Pulumi.staging.yaml").read_text() == before


def test_a_malformed_time_is_an_argument_error(tmp_path: Path) -> None:
    project = write_project(tmp_path, "staging", stack_file_values("staging"))
    result = samokoder_infra(project, "restore", "staging", "--target-time", "yesterday")
    assert result.returncode == 2
    assert "--target-time: not an ISO 8601 time: 'yesterday'" in result.stderr
