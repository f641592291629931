"""`scan-verdict`: exit 1 naming each blocking finding, 0 when the allow-list accepts them, 2 on bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.cli_runner import samokoder_infra
from tests.conftest import PROJECT_DIR

TRIVY = PROJECT_DIR / "tests" / "infra" / "ops" / "releases" / "trivy"
REPORTS = (str(TRIVY / "api.json"), str(TRIVY / "frontend.json"))


def _accepting(tmp_path: Path, *ids: str, days: int = 30) -> str:
    expires = datetime.now(UTC).date() + timedelta(days=days)
    entries = "".join(f"  - id: {i}\n    reason: fixture\n    expires: {expires}\n" for i in ids)
    path = tmp_path / "accepted.yaml"
    path.write_text("accepted:\n" + entries)
    return str(path)


def test_blocking_findings_are_named_and_fail_the_release() -> None:
    result = samokoder_infra(PROJECT_DIR, "scan-verdict", "prod", *REPORTS)
    assert result.returncode == 1, result.stderr
    blocking = sorted(line for line in result.stdout.splitlines() if line.startswith("blocking: "))
    assert blocking == [
        "blocking: api: jinja2 3.1.4 GHSA-4xqq-73wg-5mjp HIGH (fixed in 3.1.5)",
        "blocking: api: libc6 2.36-9+deb12u9 CVE-2026-10002 CRITICAL (no fixed version)",
        "blocking: api: libssl3 3.0.15-1~deb12u1 CVE-2026-10001 HIGH (fixed in 3.0.16-1~deb12u1)",
        "blocking: frontend: libssl3 3.3.2-r1 CVE-2026-10001 HIGH (fixed in 3.3.3-r0)",
    ]
    assert "4 finding(s) at or above HIGH block the release on prod" in result.stderr


def test_accepted_findings_pass_and_an_expired_acceptance_does_not(tmp_path: Path) -> None:
    ids = ("CVE-2026-10001", "CVE-2026-10002", "GHSA-4xqq-73wg-5mjp")
    passed = samokoder_infra(
        PROJECT_DIR, "scan-verdict", "staging", *REPORTS, "--accepted", _accepting(tmp_path, *ids)
    )
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert passed.stdout.count("accepted: ") == 4
    expired = samokoder_infra(
        PROJECT_DIR, "scan-verdict", "staging", *REPORTS, "--accepted", _accepting(tmp_path, *ids, days=-1)
    )
    assert expired.returncode == 1
    assert expired.stdout.count("expired: ") == 3


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("prod", "missing.json"), "missing.json"),
        (("prod", str(TRIVY)), str(TRIVY)),
        (("prod", str(PROJECT_DIR / "Pulumi.yaml")), "Pulumi.yaml"),
        (("bogus", REPORTS[0]), "bogus"),
        (("prod", REPORTS[0], "--accepted", str(PROJECT_DIR / "pyproject.toml")), "pyproject.toml"),
        (("prod", REPORTS[0], "--accepted", "missing.yaml"), "missing.yaml"),
    ],
)
def test_bad_input_is_one_line_naming_it_and_exit_2(args: tuple[str, ...], named: str) -> None:
    result = samokoder_infra(PROJECT_DIR, "scan-verdict", *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert named in lines[-1], lines
    assert len([line for line in lines if line.startswith("scan-verdict: ")]) <= 1
