"""Running `samokoder-infra` as operators do, in a project directory, with no pulumi CLI on PATH."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import PROJECT_DIR


def samokoder_infra(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # PATH holds only the virtualenv: no pulumi CLI, as on this machine and in CI's test job.
    env = {**os.environ, "PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(PROJECT_DIR)}
    return subprocess.run(
        [sys.executable, "-m", "infra.ops.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
