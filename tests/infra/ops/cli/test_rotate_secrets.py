"""The rotate-secrets command: what it refuses, and that it leaves the stack alone when it cannot run."""

from __future__ import annotations

from pathlib import Path

from tests.cli_runner import samokoder_infra
from tests.conftest import stack_file_values, write_project


def test_an_unknown_group_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    result = samokoder_infra(
        write_project(tmp_path, "staging", stack_file_values("staging")),
        "rotate-secrets",
        "staging",
        "--only",
        "db",
    )
    assert result.returncode == 2
    assert "invalid choice: 'db' (choose from 'app', 'monitoring')" in result.stderr


def test_an_unknown_stack_is_refused(tmp_path: Path) -> None:
    result = samokoder_infra(
        write_project(tmp_path, "staging", stack_file_values("staging")), "rotate-secrets", "qa"
    )
    assert result.returncode == 2
    assert "unknown stack 'qa'; known: prod, staging" in result.stderr


def test_without_the_pulumi_cli_nothing_is_marked(tmp_path: Path) -> None:
    project = write_project(tmp_path, "staging", stack_file_values("staging"))
    before = (project / "Pulumi.staging.yaml").read_text()
    result = samokoder_infra(project, "rotate-secrets", "staging", "--only", "app")
    assert result.returncode == 1
    assert "marking app at" in result.stdout
    assert "the pulumi CLI is not on PATH" in result.stderr
    assert (project / "Pulumi.staging.yaml").read_text() == before
