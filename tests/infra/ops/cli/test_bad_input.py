"""The bad-input table: every bad input to the CLI and the settings ends in exit 2 and a short message.

Each CLI row runs ``samokoder-infra`` in a project of its own and checks the
exit code, that the message says what is wrong (and never quotes a secret or
a long excerpt, never a traceback), and that nothing outside the output
directory changed (nor the output directory, when the input was refused).
The settings rows validate a changed profile or stack file and check the
problem named. Prints clear/total for both.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from infra.settings.loader import ConfigError
from tests.cli_runner import samokoder_infra
from tests.conftest import stack_file_values, write_project
from tests.infra.settings.test_stack import validate

# End to end (the CLI in processes, or a loopback API): out of `make quick`, in `make test`.
pytestmark = pytest.mark.slow

PLAINTEXT = "sk-or-v1-0123456789abcdef0123456789abcdef"  # pragma: allowlist secret (a made-up key)
ALIAS_BOMB = "\n".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(f"{chr(98 + i)}: &{chr(98 + i)} [{','.join([f'*{chr(97 + i)}'] * 9)}]" for i in range(9)),
    ]
)


def snapshot(root: Path) -> dict[str, str]:
    """Every path under `root` and a digest of each file: what "nothing changed" compares."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(root.rglob("*"))
    }


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str, ...]
    expect: str
    # Changes the project (stack file, extra files) before the run.
    prepare: Callable[[Path], None] = lambda _project: None


def _stack_file(**changes: Any) -> Callable[[Path], None]:
    def prepare(project: Path) -> None:
        write_project(project, "staging", {**stack_file_values("staging"), **changes})

    return prepare


def _raw_stack_file(text: str) -> Callable[[Path], None]:
    def prepare(project: Path) -> None:
        (project / "Pulumi.staging.yaml").write_text(text)

    return prepare


def _file(name: str, text: str) -> Callable[[Path], None]:
    def prepare(project: Path) -> None:
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)

    return prepare


def _both(*steps: Callable[[Path], None]) -> Callable[[Path], None]:
    def prepare(project: Path) -> None:
        for step in steps:
            step(project)

    return prepare


FUTURE = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0).isoformat()
CASES: tuple[Case, ...] = (
    Case(
        "synth --out a directory synth did not make",
        ("synth", "staging", "--out", "checkout"),
        "not made by synth",
        _both(_file("checkout/.git/HEAD", "ref: refs/heads/main\n"), _file("checkout/src.py", "x = 1\n")),
    ),
    Case(
        "synth --out a file",
        ("synth", "staging", "--out", "notes.txt"),
        "not a directory",
        _file("notes.txt", "x"),
    ),
    Case(
        "synth staging bogus", ("synth", "staging", "bogus"), "Pulumi.bogus.yaml: (file): no such stack file"
    ),
    Case("synth of a stack with a long name", ("synth", "s" * 70), "no such stack file"),
    Case(
        "a 4 KB alias bomb in the stack file",
        ("synth", "staging"),
        "not allowed in settings files",
        _raw_stack_file(ALIAS_BOMB + "\n" + "#" * 3000 + "\n"),
    ),
    Case(
        "a duplicate key in the stack file",
        ("synth", "staging"),
        "duplicate key",
        _raw_stack_file("config:\n  samokoder:release: {}\n  samokoder:release: {}\n"),
    ),
    Case(
        "a plaintext secret in the stack file",
        ("synth", "staging"),
        "secret in plain text",
        _stack_file(secrets={"openrouter_api_key": PLAINTEXT}),
    ),
    Case(
        "lockbox.endpoint outside Yandex Cloud",
        ("synth", "staging"),
        "must be Yandex Cloud's API",
        _stack_file(lockbox={"endpoint": "collector.example.com:443"}),
    ),
    Case(
        "a rotation stamp in the future",
        ("synth", "staging"),
        "rotation stamp in the future",
        _stack_file(rotation={"app": FUTURE}),
    ),
    Case(
        "a release id over 63 characters",
        ("synth", "staging"),
        "release.id",
        _stack_file(release={**stack_file_values("staging")["release"], "id": "r" * 64}),
    ),
    Case(
        "check with a bad config",
        ("check", "staging"),
        "rotation stamp in the future",
        _stack_file(rotation={"app": FUTURE}),
    ),
    Case(
        "releases of an unknown stack", ("releases", "bogus", "--history", "h.json"), "unknown stack 'bogus'"
    ),
    Case(
        "rollback of an unknown stack",
        ("rollback", "bogus", "--dry-run", "--history", "h.json"),
        "unknown stack 'bogus'",
    ),
    Case(
        "releases --history not JSON",
        ("releases", "staging", "--history", "h.json"),
        "not JSON",
        _file("h.json", "{ not json"),
    ),
    Case(
        "releases --history of the wrong shape",
        ("releases", "staging", "--history", "h.json"),
        "not an update history",
        _file("h.json", json.dumps({"updates": []})),
    ),
    Case(
        "releases --history with an update missing its version",
        ("releases", "staging", "--history", "h.json"),
        "wrong shape",
        _file(
            "h.json",
            json.dumps(
                [
                    {
                        "kind": "update",
                        "config": {"samokoder:release": {"value": '{"id": "r", "images": {"a": "b"}}'}},
                    }
                ]
            ),
        ),
    ),
    Case(
        "rollback --history of the wrong shape",
        ("rollback", "staging", "--dry-run", "--history", "h.json"),
        "not an update history",
        _file("h.json", "[1, 2]"),
    ),
    Case(
        "rollback --history missing",
        ("rollback", "staging", "--dry-run", "--history", "none.json"),
        "cannot be read",
    ),
)


def _cli_row(case: Case, project: Path) -> str | None:
    """None when the row is clear; else what is wrong."""
    write_project(project, "staging", stack_file_values("staging"))
    case.prepare(project)
    before = snapshot(project)
    try:
        # A hang guard, not a speed target: generous, since a loaded machine is slow.
        result = samokoder_infra(project, *case.args, timeout=240)
    except subprocess.TimeoutExpired:
        return "hung past 240 s"
    message = result.stderr + result.stdout
    problems = []
    if result.returncode != 2:
        problems.append(f"exit {result.returncode}")
    if case.expect not in message:
        problems.append(f"message lacks {case.expect!r}: {message[-400:]!r}")
    if "Traceback" in message:
        problems.append("a traceback")
    if len(result.stderr) > 2000:
        problems.append(f"{len(result.stderr)} characters of error output")
    if PLAINTEXT in message:
        problems.append("the secret is quoted")
    after = snapshot(project)
    if after != before:
        changed = sorted(set(after.items()) ^ set(before.items()))[:3]
        problems.append(f"the project changed: {changed}")
    return "; ".join(problems) or None


def test_every_bad_cli_input_exits_2_with_a_message_and_changes_nothing(tmp_path: Path) -> None:
    assert len(CASES) >= 15
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(lambda indexed: _cli_row(indexed[1], tmp_path / str(indexed[0])), enumerate(CASES))
        )
    clear = sum(problem is None for problem in results)
    table = "\n".join(
        f"  {'ok  ' if problem is None else 'FAIL'} {case.name}" + ("" if problem is None else f": {problem}")
        for case, problem in zip(CASES, results, strict=True)
    )
    print(f"\nbad CLI inputs clear: {clear}/{len(CASES)}\n{table}")
    assert clear == len(CASES), table


# (name, profile changes, stack-file changes, fragment of the problem)
SETTINGS_CASES: tuple[tuple[str, dict[str, Any], dict[str, Any], str], ...] = (
    ("telegram chat_id 0", {"alerting.receivers.telegram": {"chat_id": 0}}, {}, "chat_id: 0 is not a chat"),
    (
        "an empty email address",
        {
            "alerting.receivers.email": {
                "to": [""],
                "sender": "alerts@samokoder.ru",
                "smarthost": "smtp.example.com:587",
                "username": "alerts",
            }
        },
        {},
        "email.to[0]: not an email address",
    ),
    (
        "a duplicate receiver",
        {"alerting.routes.warning": ["telegram", "telegram"]},
        {},
        "routes.warning: a receiver is listed twice",
    ),
    (
        "an infinite threshold",
        {"slo.latency_threshold_seconds": float("inf")},
        {},
        "latency_threshold_seconds",
    ),
    ("a nan threshold", {"slo.availability_percent": float("nan")}, {}, "availability_percent"),
    ("a release id over 63 characters", {}, {"release.id": "r" * 64}, "release.id"),
    ("a release id ending in '-'", {}, {"release.id": "2026.11.20-"}, "release.id"),
    ("a rotation stamp in the future", {}, {"rotation": {"app": FUTURE}}, "rotation stamp in the future"),
    ("lockbox.endpoint elsewhere", {}, {"lockbox": {"endpoint": "evil.example:443"}}, "Yandex Cloud's API"),
    (
        "a loopback endpoint without the test override",
        {},
        {"lockbox": {"endpoint": "127.0.0.1:50051"}},
        "needs test_endpoint: true",
    ),
    (
        "lockbox.endpoint with a scheme",
        {},
        {"lockbox": {"endpoint": "https://api.cloud.yandex.net"}},
        "HOST:PORT",
    ),
)


def test_every_bad_setting_is_refused_by_name() -> None:
    results: list[tuple[str, str | None]] = []
    for name, profile, config, expected in SETTINGS_CASES:
        try:
            validate("staging", profile, config)
            results.append((name, "accepted"))
        except ConfigError as error:
            text = str(error)
            problem = None if expected in text and len(text) < 2000 else f"message: {text[-300:]!r}"
            results.append((name, problem))
    clear = sum(problem is None for _, problem in results)
    table = "\n".join(
        f"  {'ok  ' if p is None else 'FAIL'} {n}" + (f": {p}" if p else "") for n, p in results
    )
    print(f"\nbad settings clear: {clear}/{len(results)}\n{table}")
    assert clear == len(results), table


def test_a_loopback_endpoint_is_allowed_with_the_test_override() -> None:
    validate("staging", {}, {"lockbox": {"endpoint": "127.0.0.1:50051", "test_endpoint": True}})


def test_four_concurrent_synths_of_one_stack_each_leave_a_complete_tree(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", "staging", stack_file_values("staging"))
    single = project / "single"
    assert samokoder_infra(project, "synth", "staging", "--out", str(single)).returncode == 0
    expected = {p.relative_to(single) for p in single.rglob("*")}
    out = project / "shared"
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        runs = list(
            pool.map(lambda _: samokoder_infra(project, "synth", "staging", "--out", str(out)), range(4))
        )
    assert [r.returncode for r in runs] == [0, 0, 0, 0], [r.stderr[-500:] for r in runs]
    assert {p.relative_to(out) for p in out.rglob("*")} == expected
    # Nothing left beside it: no partial or old trees.
    assert sorted(p.name for p in project.iterdir() if p.name.startswith(".")) == []
    # And synth replaces its own tree on the next run.
    assert samokoder_infra(project, "synth", "staging", "--out", str(out)).returncode == 0


@pytest.mark.parametrize("bomb_size", [4096])
def test_the_alias_bomb_is_about_the_size_the_issue_names(bomb_size: int) -> None:
    assert len(ALIAS_BOMB) < bomb_size
