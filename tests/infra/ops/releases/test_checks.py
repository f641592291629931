"""The registry digest check and the smoke check, against HTTP servers on loopback; the commands' refusals."""

from __future__ import annotations

import base64
import http.server
import json
from pathlib import Path

import pytest

from infra.ops.releases.registry import RegistryError, missing_images
from infra.ops.releases.smoke import Probe, check_health, smoke_check
from tests.cli_runner import samokoder_infra
from tests.conftest import stack_file_values, write_project
from tests.infra.ops.releases.histories import DIGESTS, update
from tests.processes import send_json, serving_http


def test_the_registry_check_finds_kept_and_deleted_digests() -> None:
    kept = DIGESTS["r1"]["api"]
    seen_auth = []

    def registry(request: http.server.BaseHTTPRequestHandler) -> None:
        seen_auth.append(request.headers["Authorization"])
        request.send_response(200 if request.path == f"/v2/crpregistry/api/manifests/{kept}" else 404)
        request.end_headers()

    with serving_http(registry) as host:
        refs = {
            "api": f"{host}/crpregistry/api@{kept}",
            "worker": f"{host}/crpregistry/worker@{DIGESTS['r1']['worker']}",
        }
        assert missing_images(refs, "t1.token", scheme="http") == ["worker"]
    assert set(seen_auth) == {"Basic " + base64.b64encode(b"iam:t1.token").decode()}


def test_a_registry_that_refuses_is_an_error_not_a_missing_image() -> None:
    def refuse(request: http.server.BaseHTTPRequestHandler) -> None:
        request.send_response(401)
        request.end_headers()

    with serving_http(refuse) as host, pytest.raises(RegistryError, match="HTTP 401"):
        missing_images({"api": f"{host}/crp/api@{DIGESTS['r1']['api']}"}, "t1.bad", scheme="http")


HEALTH = (Probe("health", "/health", check_health),)


def test_the_smoke_check_waits_for_health_and_reports_failure() -> None:
    answers = iter([503, 200])

    def flaky(request: http.server.BaseHTTPRequestHandler) -> None:
        send_json(request, {"status": "ok"}, next(answers) if request.path == "/health" else 404)

    with serving_http(flaky) as host:
        result = smoke_check(f"http://{host}", HEALTH, attempts=3, interval=0.05)
    assert (result.healthy, result.attempts) == (True, 2)

    def down(request: http.server.BaseHTTPRequestHandler) -> None:
        request.send_response(502)
        request.end_headers()

    with serving_http(down) as host:
        result = smoke_check(f"http://{host}", HEALTH, attempts=2, interval=0.05)
    assert (result.healthy, result.attempts) == (False, 2)
    assert result.failed[0].detail == "HTTP 502, expected 200"


def test_the_sites_page_is_no_health() -> None:
    # A route lost to the site answers /api/health with the SPA's page and 200: not the API's answer.
    def site(request: http.server.BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "text/html")
        request.end_headers()
        request.wfile.write(b"<!doctype html><div id=root></div>")

    with serving_http(site) as host:
        result = smoke_check(f"http://{host}", HEALTH, attempts=1)
    assert not result.healthy
    assert "HTTP 200 with text/html, expected application/json" in result.failed[0].detail


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = write_project(tmp_path / "project", "staging", stack_file_values("staging"))
    history = [update(3, "r3"), update(2, "r2", result="failed"), update(1, "r1")]
    (root / "history.json").write_text(json.dumps(history))
    return root


def test_releases_lists_the_recorded_history(project: Path) -> None:
    result = samokoder_infra(project, "releases", "staging", "--history", "history.json")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["update", "time", "result", "release"]
    assert [line.split()[3] for line in lines[1:]] == ["r3", "r2", "r1"]
    assert "failed" in lines[2]


def test_a_dry_run_says_what_would_roll_back_and_changes_nothing(project: Path) -> None:
    before = (project / "Pulumi.staging.yaml").read_text()
    result = samokoder_infra(project, "rollback", "staging", "--history", "history.json", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "r3 (update 3) -> r1 (update 1); images of: api, frontend, worker" in result.stdout
    assert "dry run: nothing changed" in result.stdout
    assert (project / "Pulumi.staging.yaml").read_text() == before


def test_a_rollback_to_a_release_that_does_not_exist_is_refused(project: Path) -> None:
    result = samokoder_infra(
        project, "rollback", "staging", "--history", "history.json", "--dry-run", "--to", "r7"
    )
    assert result.returncode == 2
    assert (
        "refused: no earlier successful update deployed release 'r7'; earlier releases: r1" in result.stderr
    )


def test_a_real_rollback_needs_the_stacks_own_history_and_the_cli(project: Path) -> None:
    with_file = samokoder_infra(project, "rollback", "staging", "--history", "history.json", "--yes")
    assert with_file.returncode == 2
    assert "--history is for --dry-run" in with_file.stderr
    without_cli = samokoder_infra(project, "rollback", "staging", "--yes")
    assert without_cli.returncode == 1
    assert "the pulumi CLI is not on PATH" in without_cli.stderr
