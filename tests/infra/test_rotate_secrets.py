"""The rotate-secrets command: what it refuses, and that it leaves the stack alone when it cannot run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import PROJECT_DIR, stack_file_values, write_project


def rotate(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # PATH without the pulumi CLI, as in CI's test job.
    env = {**os.environ, "PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(PROJECT_DIR)}
    return subprocess.run(
        [sys.executable, "-m", "infra.cli", "rotate-secrets", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_an_unknown_group_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    result = rotate(
        write_project(tmp_path, "staging", stack_file_values("staging")), "staging", "--only", "db"
    )
    assert result.returncode == 2
    assert "invalid choice: 'db' (choose from 'app', 'monitoring')" in result.stderr


def test_an_unknown_stack_is_refused(tmp_path: Path) -> None:
    result = rotate(write_project(tmp_path, "staging", stack_file_values("staging")), "qa")
    assert result.returncode == 2
    assert "unknown stack 'qa'; known: prod, staging" in result.stderr


def test_without_the_pulumi_cli_nothing_is_marked(tmp_path: Path) -> None:
    project = write_project(tmp_path, "staging", stack_file_values("staging"))
    before = (project / "Pulumi.staging.yaml").read_text()
    result = rotate(project, "staging", "--only", "app")
    assert result.returncode == 1
    assert "marking app at" in result.stdout
    assert "the pulumi CLI is not on PATH" in result.stderr
    assert (project / "Pulumi.staging.yaml").read_text() == before
