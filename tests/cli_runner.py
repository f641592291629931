"""Running `samokoder-infra` as operators do, in a project directory, with no pulumi CLI on PATH."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import PROJECT_DIR

# Where a command run inside GitHub Actions writes its outputs and summary: never the test run's own.
RUNNER_FILES = ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY")


def samokoder_infra(
    cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    """``timeout``: a hang raises subprocess.TimeoutExpired instead of holding the session."""
    # PATH holds only the virtualenv: no pulumi CLI, as on this machine and in CI's test job.
    inherited = {k: v for k, v in os.environ.items() if k not in RUNNER_FILES}
    env = {
        **inherited,
        "PATH": str(Path(sys.executable).parent),
        "PYTHONPATH": str(PROJECT_DIR),
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "infra.ops.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
