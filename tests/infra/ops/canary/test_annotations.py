"""Grafana annotations of release steps and `samokoder-infra annotate`, against a recording loopback server.

No Grafana runs here (it is in neither Debian nor PyPI): the server stands in
for its Annotations HTTP API, records each request as it arrived (method,
path, headers, JSON body) and answers as Grafana documents it: 200 with
``{"message": "Annotation added", "id": N}``, or an error with a ``message``.
"""

from __future__ import annotations

import argparse
import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from infra.ops.canary.annotations import (
    STEPS,
    GrafanaError,
    ReleaseStep,
    annotate,
    annotation_body,
    annotations_url,
    epoch_ms,
    post_annotation,
)
from infra.ops.cli import annotate as annotate_command
from infra.ops.cli import build_parser
from infra.ops.cli.common import EXIT_FAILED, EXIT_INVALID, EXIT_OK
from infra.render.monitoring.dashboards.golden_signals import UID, golden_signals
from infra.render.monitoring.dashboards.panels import to_json
from tests.cli_runner import samokoder_infra
from tests.conftest import PROJECT_DIR
from tests.infra.render.monitoring.support import stack_settings
from tests.processes import send_json

TOKEN = "glsa_test_token_for_the_loopback_only"  # pragma: allowlist secret (made up for the tests)
AT = datetime(2026, 11, 20, 14, 0, 5, 250000, tzinfo=UTC)
AT_MS = 1_795_183_205_250


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeGrafana:
    """What it answers (status, JSON) and what it received."""

    status: int = 200
    answer: Any = field(default_factory=lambda: {"message": "Annotation added", "id": 42})
    received: list[Received] = field(default_factory=list)
    url: str = ""


@contextmanager
def grafana(fake: FakeGrafana, sub_path: str = "") -> Iterator[FakeGrafana]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            fake.received.append(
                Received(self.command, self.path, dict(self.headers.items()), json.loads(raw or b"null"))
            )
            if isinstance(fake.answer, bytes):
                self.send_response(fake.status)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(fake.answer)
            else:
                send_json(self, fake.answer, fake.status)

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}{sub_path}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def judged(**changes: Any) -> ReleaseStep:
    values: dict[str, Any] = {
        "stack": "prod",
        "release": "2026.11.20-1",
        "step": "judged",
        "weight": 25,
        "verdict": "promote",
    }
    return ReleaseStep(**{**values, **changes})


# --- the annotation -----------------------------------------------------------------


def test_a_step_is_tagged_with_the_project_the_stack_the_release_and_its_kind() -> None:
    assert judged().tags() == ["samokoder", "prod", "release", "release:2026.11.20-1", "judged"]
    assert judged().text() == "Release 2026.11.20-1 on prod: canary judged at weight 25 %; verdict: promote."
    started = judged(step="canary", weight=5, verdict=None, note="by the release workflow")
    assert (
        started.text()
        == "Release 2026.11.20-1 on prod: canary started at weight 5 %. by the release workflow"
    )
    aborted = judged(step="aborted", weight=None, verdict="5xx share 2.1 % > 0.5 %")
    assert aborted.text() == "Release 2026.11.20-1 on prod: aborted; verdict: 5xx share 2.1 % > 0.5 %."


def test_every_step_carries_the_tags_the_golden_signals_dashboard_asks_for() -> None:
    dashboard = to_json(golden_signals(stack_settings("prod").thresholds, frozenset()))
    assert dashboard["uid"] == UID
    ((query, target),) = [(q, q["target"]) for q in dashboard["annotations"]["list"]]
    assert (query["datasource"]["type"], target["type"], target["matchAny"]) == ("grafana", "tags", False)
    # matchAny false: Grafana shows an annotation only if it carries every one of the query's tags.
    for step in STEPS:
        assert set(target["tags"]) <= set(judged(step=step).tags()), step


def test_the_body_is_grafanas_create_annotation_with_times_in_epoch_milliseconds() -> None:
    assert epoch_ms(AT) == AT_MS
    # The same instant in another zone is the same milliseconds.
    assert epoch_ms(AT.astimezone(timezone(timedelta(hours=3)))) == AT_MS
    assert annotation_body(judged(), AT) == {
        "time": AT_MS,
        "timeEnd": AT_MS,
        "tags": judged().tags(),
        "text": judged().text(),
    }
    window = annotation_body(judged(), AT - timedelta(minutes=10), AT, dashboard_uid=UID)
    assert (window["time"], window["timeEnd"], window["dashboardUID"]) == (AT_MS - 600_000, AT_MS, UID)
    with pytest.raises(ValueError, match="without a zone"):
        epoch_ms(datetime(2026, 11, 20, 14, 0))  # a naive time: the point of the test
    with pytest.raises(ValueError, match="end before it starts"):
        annotation_body(judged(), AT, AT - timedelta(seconds=1))


@pytest.mark.parametrize(
    "url",
    ["grafana.example.org", "ftp://grafana.example.org", "https://operator@grafana.example.org", "https://"],
)
def test_only_a_plain_http_base_url_is_a_grafana(url: str) -> None:
    with pytest.raises(ValueError, match="Grafana"):
        annotations_url(url)


def test_the_api_path_follows_grafanas_sub_path() -> None:
    assert annotations_url("https://example.org/grafana/") == "https://example.org/grafana/api/annotations"


# --- the client against the recording server -----------------------------------------


def test_the_client_posts_json_with_the_bearer_token_and_returns_the_id() -> None:
    with grafana(FakeGrafana(), sub_path="/grafana") as fake:
        annotation = annotate(fake.url, TOKEN, judged(), AT)
    assert annotation == 42
    (request,) = fake.received
    assert (request.method, request.path) == ("POST", "/grafana/api/annotations")
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Accept"] == "application/json"
    assert request.body == {"time": AT_MS, "timeEnd": AT_MS, "tags": judged().tags(), "text": judged().text()}


def test_grafanas_refusal_is_an_error_with_its_status_and_message() -> None:
    refusal = FakeGrafana(status=401, answer={"message": "invalid API key", "traceID": ""})
    with grafana(refusal) as fake, pytest.raises(GrafanaError) as caught:
        post_annotation(fake.url, "glsa_revoked", annotation_body(judged(), AT))
    assert caught.value.status == 401
    assert str(caught.value) == (
        f"Grafana refused the annotation: POST {fake.url}/api/annotations answered HTTP 401: invalid API key"
    )
    assert "glsa_revoked" not in str(caught.value)


def test_an_error_page_that_is_not_json_is_shown_in_short() -> None:
    page = b"<html>\n<h1>502</h1>" + b" bad gateway" * 100 + b"</html>"
    with (
        grafana(FakeGrafana(status=502, answer=page)) as fake,
        pytest.raises(GrafanaError, match=r"HTTP 502: <html> <h1>502</h1> bad gateway bad") as caught,
    ):
        post_annotation(fake.url, TOKEN, annotation_body(judged(), AT))
    assert caught.value.status == 502
    assert str(caught.value).endswith("…")
    assert len(str(caught.value)) < 400


def test_an_answer_without_an_id_is_an_error() -> None:
    with (
        grafana(FakeGrafana(answer={"message": "Annotation added"})) as fake,
        pytest.raises(GrafanaError, match="without the annotation's id"),
    ):
        post_annotation(fake.url, TOKEN, annotation_body(judged(), AT))


def test_no_grafana_listening_is_an_error_not_a_traceback() -> None:
    with grafana(FakeGrafana()) as fake:
        url = fake.url
    with pytest.raises(GrafanaError, match="cannot reach Grafana"):
        post_annotation(url, TOKEN, annotation_body(judged(), AT), timeout=2)


# --- the command ----------------------------------------------------------------------


def run_annotate(*argv: str) -> int:
    """The command as main() runs it, in this process (main itself would turn the collector off)."""
    args = build_parser().parse_args(["annotate", *argv])
    result: int = args.handler(args)
    return result


def test_annotate_posts_the_step_with_the_token_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GRAFANA_TOKEN", TOKEN)
    with grafana(FakeGrafana()) as fake:
        before = datetime.now(UTC)
        code = run_annotate(
            "staging", "--grafana", fake.url, "--release", "r7", "--step", "weight", "--weight", "50"
        )
        after = datetime.now(UTC)
    assert code == EXIT_OK
    (request,) = fake.received
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.body["tags"] == ["samokoder", "staging", "release", "release:r7", "weight"]
    assert request.body["text"] == "Release r7 on staging: canary weight changed at weight 50 %."
    assert epoch_ms(before) - 1 <= request.body["time"] == request.body["timeEnd"] <= epoch_ms(after) + 1
    assert "annotation 42 added" in capsys.readouterr().out


def test_annotate_without_a_token_exits_2_and_says_which_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GRAFANA_TOKEN", raising=False)
    with grafana(FakeGrafana()) as fake:
        code = run_annotate("prod", "--grafana", fake.url, "--release", "r7", "--step", "promoted")
    assert code == EXIT_INVALID
    assert not fake.received
    assert "GRAFANA_TOKEN is not set" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--step", "weight"], "--step weight needs --weight N"),
        (["--step", "judged", "--weight", "5"], "--step judged needs --verdict TEXT"),
        (["--step", "promoted", "--grafana", "grafana.internal"], "is not a Grafana URL"),
    ],
)
def test_annotate_refuses_an_incomplete_step_before_asking_grafana(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    monkeypatch.setenv("GRAFANA_TOKEN", TOKEN)
    with grafana(FakeGrafana()) as fake:
        code = run_annotate("prod", "--grafana", fake.url, "--release", "r7", *argv)
    assert code == EXIT_INVALID
    assert not fake.received
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["--step", "weight", "--weight", "0"],
        ["--step", "weight", "--weight", "half"],
        ["--step", "rolled"],
        ["--step", "canary", "--weight", "5", "--release", "no spaces"],
    ],
)
def test_annotate_rejects_bad_arguments_as_usage_errors(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["annotate", "prod", "--grafana", "http://g", "--release", "r7", *argv])
    assert exit_.value.code == EXIT_INVALID


def test_every_argument_of_annotate_has_help_and_the_steps_are_the_clients() -> None:
    commands = argparse.ArgumentParser().add_subparsers()
    annotate_command.register(commands)
    (parser,) = commands.choices.values()
    assert parser.description
    assert all(action.help for action in parser._actions)
    assert annotate_command.STEPS == STEPS


@pytest.mark.slow
def test_grafanas_refusal_reaches_the_operator_as_exit_1_with_status_and_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GRAFANA_TOKEN", "glsa_revoked")
    refusal = FakeGrafana(status=401, answer={"message": "invalid API key"})
    with grafana(refusal) as fake:
        result = samokoder_infra(
            PROJECT_DIR, "annotate", "prod", "--grafana", fake.url, "--release", "r7", "--step", "aborted"
        )
    assert result.returncode == EXIT_FAILED, result.stderr
    assert f"POST {fake.url}/api/annotations answered HTTP 401: invalid API key" in result.stderr
    assert "Traceback" not in result.stderr
    assert "glsa_revoked" not in result.stderr + result.stdout
    (request,) = fake.received
    assert request.headers["Authorization"] == "Bearer glsa_revoked"
