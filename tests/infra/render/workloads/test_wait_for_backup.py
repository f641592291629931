"""The migration Job's wait for its backup, run for real against a Kubernetes API stand-in on loopback."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from infra.render.workloads.migrations import WAIT_SCRIPT
from tests.processes import send_json, serving_http

BACKUP = "samokoder-db-pre-migration-4f2a9c1d7e3b"
PATH = f"/apis/postgresql.cnpg.io/v1/namespaces/samokoder/backups/{BACKUP}"


@contextmanager
def kubernetes_api(phases: list[str], seen: list[str]) -> Iterator[str]:
    """Answers the Backup's phases in turn, then the last one for ever; records the credentials sent."""
    remaining = iter(phases)

    def backup(request: http.server.BaseHTTPRequestHandler) -> None:
        seen.append(request.headers.get("Authorization", ""))
        if request.path != PATH:
            request.send_error(404)
            return
        phase = next(remaining, phases[-1])
        send_json(request, {"kind": "Backup", "status": {"phase": phase} if phase else {}})

    with serving_http(backup) as address:
        yield f"http://{address}"


def wait(api: str, token_file: Path, timeout: str = "10") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "BACKUP_NAME": BACKUP,
        "BACKUP_NAMESPACE": "samokoder",
        "KUBERNETES_API": api,
        "TOKEN_FILE": str(token_file),
        "POLL_SECONDS": "0.05",
        "TIMEOUT_SECONDS": timeout,
    }
    return subprocess.run(
        [sys.executable, "-c", WAIT_SCRIPT], env=env, capture_output=True, text=True, check=False, timeout=60
    )


@pytest.fixture
def token(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text("service-account-token\n")
    return path


def test_the_migration_starts_once_the_backup_has_completed(token: Path) -> None:
    seen: list[str] = []
    with kubernetes_api(["", "started", "running", "completed"], seen) as api:
        result = wait(api, token)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == f"backup {BACKUP}: completed"
    assert len(seen) == 4
    assert set(seen) == {"Bearer service-account-token"}


def test_a_failed_backup_stops_the_migration(token: Path) -> None:
    with kubernetes_api(["running", "failed"], []) as api:
        result = wait(api, token)
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1] == f"backup {BACKUP}: failed"


def test_a_backup_that_never_completes_stops_the_migration_at_the_deadline(token: Path) -> None:
    with kubernetes_api(["running"], []) as api:
        result = wait(api, token, timeout="0.5")
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1] == f"backup {BACKUP}: not completed in time"


def test_a_redirect_is_not_followed_with_the_token(token: Path) -> None:
    elsewhere: list[str] = []

    def collector(request: http.server.BaseHTTPRequestHandler) -> None:
        elsewhere.append(request.headers.get("Authorization", ""))
        send_json(request, {"kind": "Backup", "status": {"phase": "completed"}})

    with serving_http(collector) as other:

        def redirect(request: http.server.BaseHTTPRequestHandler) -> None:
            request.send_response(307)
            request.send_header("Location", f"http://{other}{PATH}")
            request.end_headers()

        with serving_http(redirect) as api:
            result = wait(f"http://{api}", token, timeout="1")
    assert elsewhere == []
    assert result.returncode == 1
    assert "HTTP Error 307" in result.stdout
