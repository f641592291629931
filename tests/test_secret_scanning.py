"""The secret scan that runs before every commit and in CI: the repository passes, a planted secret fails."""

from __future__ import annotations

import secrets
import string
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PROJECT_DIR

BIN = PROJECT_DIR / ".venv" / "bin"


def scan(*files: Path | str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "detect-secrets-hook"), "--baseline", ".secrets.baseline", *map(str, files)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.tool
def test_every_tracked_file_passes_the_scan() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
    ).stdout.split()
    scanned = [
        f
        for f in tracked
        # Upstream copies, unchanged (tests/crds/README.md, tests/charts/README.md).
        if not f.startswith(("tests/crds/", "tests/charts/"))
        and f not in ("constraints.txt", ".secrets.baseline")
    ]
    assert len(scanned) > 100
    result = scan(*scanned)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.tool
def test_a_planted_secret_fails_the_scan_and_is_named(tmp_path: Path) -> None:
    # Assembled here, so that this file itself holds no secret-looking literal.
    access_key = "AKIA" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16))
    leaked = tmp_path / "settings.py"
    leaked.write_text(f'AWS_ACCESS_KEY_ID = "{access_key}"\n')
    result = scan(leaked)
    assert result.returncode == 1
    assert "AWS Access Key" in result.stdout
    assert "settings.py" in result.stdout


def test_pre_commit_runs_the_same_scan() -> None:
    config = (PROJECT_DIR / ".pre-commit-config.yaml").read_text()
    assert "entry: .venv/bin/detect-secrets-hook --baseline .secrets.baseline" in config
    makefile = (PROJECT_DIR / "Makefile").read_text()
    assert "pre-commit run detect-secrets --all-files" in makefile
