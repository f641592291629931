"""The bootstrap script, in dry-run: what it would create, and that CI gets no primitive role."""

from __future__ import annotations

import re
import subprocess

from infra.policy.validators import PRIMITIVE_ROLES
from tests.conftest import PROJECT_DIR

SCRIPT = PROJECT_DIR / "scripts" / "bootstrap"


def bootstrap(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, check=False, cwd=PROJECT_DIR)


def test_a_dry_run_plans_the_state_bucket_and_a_ci_account_with_service_roles_only() -> None:
    result = bootstrap("--dry-run", "--folder-id", "b1gfolder00000000001")
    assert result.returncode == 0, result.stderr
    commands = [line[2:] for line in result.stdout.splitlines() if line.startswith("+ ")]
    assert "yc iam service-account create --name samokoder-ci --folder-id b1gfolder00000000001" in commands[1]
    roles = [m[1] for line in commands if (m := re.search(r"--role (\S+)", line))]
    assert len(roles) >= 8
    assert not set(roles) & PRIMITIVE_ROLES
    assert (
        "yc storage bucket update --name samokoder-pulumi-state --versioning versioning-enabled" in commands
    )
    assert result.stdout.rstrip().endswith("s3ForcePathStyle=true")


def test_missing_or_unknown_arguments_are_refused_with_the_option_named() -> None:
    missing = bootstrap()
    assert missing.returncode == 2
    assert "--folder-id is required" in missing.stderr
    unknown = bootstrap("--folder", "x")
    assert unknown.returncode == 2
    assert "unknown argument '--folder'" in unknown.stderr
    assert bootstrap("--help").stdout.startswith("usage: scripts/bootstrap")
