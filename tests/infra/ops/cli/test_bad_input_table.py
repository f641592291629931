"""Every command under bad input: exit 0, 1 or 2, a clear last line naming the input, never a traceback.

Each row runs ``samokoder-infra COMMAND`` in a scratch project (Pulumi.yaml and the
staging stack file, copied) against one bad input: malformed, truncated, binary or
deeply nested files, directories or missing files where files are read, numbers that
overflow, unwritable output places, an unknown stack, garbage in the stack file. A row
fails on a traceback, an exit code outside 0/1/2, a hang, or a last line of error output
that does not name the input. Prints, per command: bad inputs / clear errors / tracebacks.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.cli_runner import samokoder_infra
from tests.conftest import PROJECT_DIR, stack_file_values, write_project

# End to end (the CLI in processes): out of `make quick`, in `make test`.
pytestmark = pytest.mark.slow

NESTED = "[" * 100_000 + "]" * 100_000
BINARY = bytes(range(256)) * 8
GOOD_DIGEST = "sha256:" + "a" * 64
# diff reads its base with git (setup installs it; a missing git fails the diff test loudly).
GIT = shutil.which("git") or "git"


@dataclass(frozen=True)
class Row:
    command: str
    name: str
    args: tuple[str, ...]
    # Fragments (|-separated) one of the last lines of error output holds: the input it names.
    names: str
    files: dict[str, str | bytes | None] = field(default_factory=dict)  # None: a directory


def _update(version: object, images: object, result: str = "succeeded") -> dict[str, object]:
    release = {"id": "2026.12.01-1", "migration_revision": "abc123", "images": images}
    return {
        "version": version,
        "kind": "update",
        "result": result,
        "startTime": "2026-12-01T00:00:00Z",
        "config": {"samokoder:release": {"value": json.dumps(release), "secret": False}},
    }


LATEST = {"api": "latest", "worker": GOOD_DIGEST, "frontend": GOOD_DIGEST}
HISTORIES: dict[str, str | bytes | None] = {
    "not JSON": "{ not json",
    "truncated JSON": '[{"version": 3, "kind": "upd',
    "binary": BINARY,
    "100k nested lists": NESTED,
    "a directory": None,
    "wrong types": json.dumps([{"version": "x", "kind": 5, "config": [1], "result": None}]),
    "a version of 1e308": json.dumps([_update(1e308, dict.fromkeys(LATEST, GOOD_DIGEST))]),
    "a version of inf and nan": '[{"version": Infinity, "kind": "update", "result": NaN}]',
    "a release with api: latest": json.dumps([_update(7, LATEST)]),
    "a release whose images are a number": json.dumps([_update(7, 1e308)]),
}
STACK_FILES: dict[str, str | bytes | None] = {
    "garbage YAML": "config: [1, {\n\t: ::\n",
    "binary": BINARY,
    "a directory": None,
    "a list": "- 1\n- 2\n",
    "a release of .inf": "config:\n  samokoder:release: .inf\n",
}


def _history_rows() -> list[Row]:
    rows = []
    for name, content in HISTORIES.items():
        files = {"h.json": content}
        for command, args in (
            ("releases", ("releases", "staging")),
            ("rollback", ("rollback", "staging", "--dry-run")),
            ("record-release", ("record-release", "staging", "--deployed")),
            ("verify-release", ("verify-release", "staging")),
        ):
            rows.append(
                Row(
                    command,
                    f"--history {name}",
                    (*args, "--history", "h.json"),
                    "h.json|history|update|Pulumi.staging.yaml",
                    files,
                )
            )
    for command, args in (
        ("releases", ("releases", "staging")),
        ("record-release", ("record-release", "staging", "--deployed")),
    ):
        rows.append(Row(command, "--history missing", (*args, "--history", "none.json"), "none.json"))
    return rows


REHEARSE = ("rehearse-migration", "staging", "--image", f"cr.yandex/r/api@{GOOD_DIGEST}")


def _stack_file_rows() -> list[Row]:
    rows = []
    for name, content in STACK_FILES.items():
        files = {"Pulumi.staging.yaml": content}
        for command, args in (
            ("synth", ("synth", "staging", "--out", "out")),
            ("check", ("check", "staging")),
            ("smoke", ("smoke", "staging", "--attempts", "1")),
            ("rotate-secrets", ("rotate-secrets", "staging")),
            ("restore", ("restore", "staging")),
            ("cut-over", ("cut-over", "staging", "--to", "drill")),
            (
                "record-release",
                ("record-release", "staging", "--id", "r1", "--migration", "abc", "--api", GOOD_DIGEST),
            ),
            ("verify-release", ("verify-release", "staging", "--history", "good.json")),
            ("rehearse-migration", (*REHEARSE, "--migration", "b2c3d4")),
            ("restore-drill", ("restore-drill", "staging")),
            ("scan-verdict", ("scan-verdict", "staging", "good.json")),
        ):
            # rotate-secrets asks for the pulumi CLI (absent here) before it reads the file.
            names = "Pulumi.staging.yaml|pulumi CLI" if command == "rotate-secrets" else "Pulumi.staging.yaml"
            rows.append(Row(command, f"Pulumi.staging.yaml {name}", args, names, files))
    return rows


RESOURCES: dict[str, str | bytes | None] = {
    "not JSON": "{ not json",
    "truncated JSON": '[{"urn": "urn:pulumi:s::p::t::n", "ty',
    "binary": BINARY,
    "100k nested lists": NESTED,
    "a directory": None,
    "wrong types": json.dumps([{"urn": 5, "type": [], "inputs": "x", "dependencies": 3}]),
    "numbers of 1e308, inf and nan": '[{"urn": "urn:pulumi:s::p::t::n", "type": "t", '
    '"inputs": {"a": 1e999, "b": NaN, "c": -Infinity, "d": 1e308}}]',
}

TRIVY_REPORT = json.dumps({"SchemaVersion": 2, "ArtifactName": "cr.yandex/r/api@" + GOOD_DIGEST})
ALLOW_LISTS: dict[str, str | bytes | None] = {
    "garbage YAML": "accepted: [1, {\n\t: ::\n",
    "binary": BINARY,
    "100k nested lists": NESTED,
    "a directory": None,
    "an entry with no reason": "accepted:\n  - id: CVE-2026-10001\n    expires: 2026-12-31\n",
    "an expiry of 1e308": "accepted:\n  - id: CVE-2026-10001\n    reason: r\n    expires: 1e308\n",
}


def _other_rows() -> list[Row]:
    rows = [
        Row(
            "check",
            f"--resources {name}",
            ("check", "staging", "--resources", "r.json"),
            "r.json",
            {"r.json": c},
        )
        for name, c in RESOURCES.items()
    ]
    rows += [
        Row("check", "--resources missing", ("check", "staging", "--resources", "none.json"), "none.json"),
        Row("check", "an unknown stack", ("check", "bogus"), "bogus"),
        Row(
            "synth", "--out under /proc", ("synth", "staging", "--out", "/proc/samokoder"), "/proc/samokoder"
        ),
        Row("synth", "--out /proc/self", ("synth", "staging", "--out", "/proc/self"), "/proc/self"),
        Row("synth", "--out under a file", ("synth", "staging", "--out", "f/out"), "f/out", {"f": "x"}),
        Row("synth", "an unknown stack", ("synth", "bogus"), "bogus"),
        Row("diff", "an unknown stack", ("diff", "bogus"), "bogus"),
        Row("diff", "--base that is no ref", ("diff", "staging", "--base", "no-such-ref"), "no-such-ref|git"),
        Row("diff", "--builds a file", ("diff", "staging", "--builds", "f"), "f", {"f": "x"}),
        Row("monitoring-diff", "BASE missing", ("monitoring-diff", "none", "none2"), "none"),
        Row("monitoring-diff", "BASE a file", ("monitoring-diff", "f", "f"), "f", {"f": "x"}),
        Row(
            "monitoring-diff",
            "builds of binary and nested files",
            ("monitoring-diff", "a", "b"),
            "a",
            {
                "a/staging/monitoring/x.yaml": BINARY,
                "b/staging/monitoring/x.yaml": NESTED,
                "a/staging/x": "x",
            },
        ),
        Row("restore", "--target-time garbage", ("restore", "staging", "--target-time", "1e308"), "1e308"),
        Row("restore", "an unknown stack", ("restore", "bogus"), "bogus"),
        Row("cut-over", "an unknown stack", ("cut-over", "bogus", "--back"), "bogus"),
        Row("cut-over", "neither --to nor --back", ("cut-over", "staging"), "--to"),
        Row("cut-over", "--to and --back", ("cut-over", "staging", "--to", "drill", "--back"), "--back"),
        Row("cut-over", "--to no cluster name", ("cut-over", "staging", "--to", "X; rm -rf /"), "--to"),
        Row("cut-over", "--to 5000 characters", ("cut-over", "staging", "--to", "a" * 5000), "--to"),
        Row("cut-over", "--to a cluster not restored", ("cut-over", "staging", "--to", "drill"), "--to"),
        Row("cut-over", "--to the running cluster", ("cut-over", "staging", "--to", "samokoder-db"), "--to"),
        Row(
            "cut-over",
            "--timeout 1e308",
            ("cut-over", "staging", "--back", "--timeout", "1e308"),
            "1e308",
        ),
        Row("rotate-secrets", "--only unknown", ("rotate-secrets", "staging", "--only", "nope"), "nope"),
        Row("rollback", "--steps 1e308", ("rollback", "staging", "--steps", "1e308"), "1e308"),
        Row(
            "rollback",
            "--steps huge",
            ("rollback", "staging", "--dry-run", "--steps", "9" * 30, "--history", "good.json"),
            "steps|earlier",
        ),
        Row("smoke", "--attempts -1e308", ("smoke", "staging", "--attempts", "-1e308"), "attempts"),
        Row("smoke", "--attempts 0", ("smoke", "staging", "--attempts", "0"), "attempts"),
        Row("smoke", "--interval -1", ("smoke", "staging", "--interval", "-1"), "interval"),
        Row("smoke", "--interval nan", ("smoke", "staging", "--interval", "nan"), "interval"),
        Row("smoke", "--interval 1e309", ("smoke", "staging", "--interval", "1e309"), "1e309"),
        Row("migration-revision", "VERSIONS missing", ("migration-revision", "none"), "none"),
        Row("migration-revision", "VERSIONS a file", ("migration-revision", "f"), "f", {"f": "x"}),
        Row(
            "migration-revision",
            "a binary script",
            ("migration-revision", "v"),
            "v",
            {"v/x.py": BINARY},
        ),
        Row(
            "kube-credential",
            "--root-certificates a directory",
            ("kube-credential", "--root-certificates", "d"),
            "d",
            {"d": None},
        ),
        Row(
            "record-release",
            "--api latest",
            ("record-release", "staging", "--id", "r1", "--migration", "abc123", "--api", "latest"),
            "api",
        ),
        Row("app-commit", "an extra argument", ("app-commit", "extra"), "extra"),
        Row(
            "rehearse-migration",
            "--image by tag",
            (*REHEARSE[:3], "api:latest", "--migration", "b2c3d4"),
            "image",
        ),
        Row("rehearse-migration", "--migration not hex", (*REHEARSE, "--migration", "X; rm"), "migration"),
        Row(
            "rehearse-migration",
            "--timeout 0",
            (*REHEARSE, "--migration", "b2c3d4", "--timeout", "0"),
            "timeout",
        ),
        Row(
            "rehearse-migration",
            "--timeout 1e308",
            (*REHEARSE, "--migration", "b2c3d4", "--timeout", "1e308"),
            "timeout",
        ),
        Row("rehearse-migration", "an unknown stack", ("rehearse-migration", "bogus"), "bogus"),
        Row("restore-drill", "an unknown stack", ("restore-drill", "bogus"), "bogus"),
        Row("restore-drill", "--timeout 0", ("restore-drill", "staging", "--timeout", "0"), "timeout"),
        Row(
            "restore-drill", "--timeout 1e308", ("restore-drill", "staging", "--timeout", "1e308"), "timeout"
        ),
        Row(
            "restore-drill",
            "--kubectl a missing program",
            ("restore-drill", "staging", "--kubectl", "no-such-kubectl", "--timeout", "5"),
            "no-such-kubectl",
        ),
        Row("scan-verdict", "an unknown stack", ("scan-verdict", "bogus", "r.json"), "bogus"),
        Row("scan-verdict", "REPORT missing", ("scan-verdict", "staging", "none.json"), "none.json"),
        Row("scan-verdict", "REPORT a history", ("scan-verdict", "staging", "good.json"), "good.json"),
        *(
            Row(
                "scan-verdict",
                f"REPORT {name}",
                ("scan-verdict", "staging", "r.json"),
                "r.json",
                {"r.json": c},
            )
            for name, c in RESOURCES.items()
        ),
        *(
            Row(
                "scan-verdict",
                f"--accepted {name}",
                ("scan-verdict", "staging", "r.json", "--accepted", "a.yaml"),
                "a.yaml",
                {"r.json": TRIVY_REPORT, "a.yaml": c},
            )
            for name, c in ALLOW_LISTS.items()
        ),
        Row(
            "scan-verdict",
            "--accepted missing",
            ("scan-verdict", "staging", "r.json", "--accepted", "none.yaml"),
            "none.yaml",
            {"r.json": TRIVY_REPORT},
        ),
        Row(
            "verify-images",
            "REGISTRY a URL",
            ("verify-images", "https://cr", f"api={GOOD_DIGEST}"),
            "https://cr",
        ),
        Row(
            "verify-images", "an image by tag", ("verify-images", "cr.yandex/crp", "api=latest"), "api=latest"
        ),
        Row(
            "verify-images",
            "a service twice",
            ("verify-images", "cr.yandex/crp", f"api={GOOD_DIGEST}", f"api={GOOD_DIGEST}"),
            "api named twice",
        ),
        Row(
            "verify-images",
            "--key-file missing",
            ("verify-images", "cr.yandex/crp", f"api={GOOD_DIGEST}", "--key-file", "none.json"),
            "none.json",
        ),
        Row(
            "rollback",
            "--source a URL",
            ("rollback", "staging", "--source", "https://cr", "--history", "good.json", "--dry-run"),
            "https://cr",
        ),
    ]
    return rows


ROWS = (*_history_rows(), *_stack_file_rows(), *_other_rows())
GOOD_HISTORY = json.dumps(
    [_update(2, dict.fromkeys(LATEST, GOOD_DIGEST)), _update(1, dict.fromkeys(LATEST, GOOD_DIGEST))]
)


def _lay_out(project: Path, row: Row) -> None:
    write_project(project, "staging", stack_file_values("staging"))
    (project / "good.json").write_text(GOOD_HISTORY)
    for name, content in row.files.items():
        path = project / name
        if path.is_file():
            path.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            path.mkdir()
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def _run_row(row: Row, project: Path) -> tuple[bool, str | None]:
    """(a traceback was printed, what is wrong or None)."""
    _lay_out(project, row)
    before = (
        (project / "Pulumi.staging.yaml").read_bytes() if (project / "Pulumi.staging.yaml").is_file() else b""
    )
    # No identity: whatever tries the cloud fails at once, never waits on it.
    env = {"YC_SERVICE_ACCOUNT_KEY_FILE": "", "YC_IAM_TOKEN": "", "PULUMI_HOME": str(project / ".pulumi")}
    try:
        result = samokoder_infra(project, *row.args, env=env, timeout=90)
    except subprocess.TimeoutExpired:
        return False, "hung past 90 s"
    traceback = "Traceback" in result.stderr or "Traceback" in result.stdout
    problems = []
    if traceback:
        problems.append(f"a traceback: {result.stderr.strip().splitlines()[-1][:200]!r}")
    if result.returncode not in (0, 1, 2):
        problems.append(f"exit {result.returncode}")
    lines = result.stderr.strip().splitlines()
    if (
        result.returncode != 0
        and not traceback
        and (not any(n in "\n".join(lines[-2:]) for n in row.names.split("|")))
    ):
        problems.append(f"the error does not name {row.names!r}: {result.stderr[-300:]!r}")
    after = (
        (project / "Pulumi.staging.yaml").read_bytes() if (project / "Pulumi.staging.yaml").is_file() else b""
    )
    if result.returncode != 0 and after != before:
        problems.append("a refused run changed the stack file")
    if b"latest" in after and b"latest" not in before:
        problems.append("a tag, not a digest, was recorded")
    return traceback, "; ".join(problems) or None


def test_every_command_survives_every_bad_input(tmp_path: Path) -> None:
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda i: _run_row(ROWS[i], tmp_path / str(i)), range(len(ROWS))))
    per_command: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    failures = []
    for row, (traceback, problem) in zip(ROWS, results, strict=True):
        figures = per_command[row.command]
        figures[0] += 1
        figures[1] += problem is None
        figures[2] += traceback
        if problem is not None:
            failures.append(f"  {row.command} {row.name}: {problem}")
    print("\ncommand             bad inputs  clear errors  tracebacks")
    for command, (tried, clear, tracebacks) in sorted(per_command.items()):
        print(f"{command:<20}{tried:>10}{clear:>14}{tracebacks:>12}")
    assert not failures, "\n".join(failures)


def test_every_command_is_in_the_table() -> None:
    from infra.ops.cli import build_parser  # noqa: PLC0415

    actions = build_parser()._subparsers._group_actions  # type: ignore[union-attr]
    commands = [name for action in actions for name in (action.choices or {})]
    assert set(commands) == {row.command for row in ROWS}


def test_check_then_synth_on_a_fresh_clone_takes_its_own_build(tmp_path: Path) -> None:
    project = write_project(tmp_path / "clone", "staging", stack_file_values("staging"))
    checked = samokoder_infra(project, "check", "staging", timeout=300)
    assert checked.returncode == 0, checked.stderr[-500:]
    synthesized = samokoder_infra(project, "synth", "staging", timeout=300)
    assert synthesized.returncode == 0, synthesized.stderr[-500:]
    assert (project / "build" / "staging" / "resources.json").is_file()


def test_ctrl_c_during_synth_ends_it_without_a_traceback(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", "staging", stack_file_values("staging"))
    env = {**os.environ, "PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(PROJECT_DIR)}
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.ops.cli", "synth", "staging", "--out", "out"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    # Interrupted once the program runs under the mock runtime (its first line), as an operator would.
    first = process.stdout.readline()
    assert "running the program" in first, first
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    try:
        _, stderr = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("synth still ran 30 s after Ctrl-C")
    assert "Traceback" not in stderr, stderr[-800:]
    assert process.returncode in (0, 1, 2), (process.returncode, stderr[-400:])
    # Whole or nothing: no partial tree beside it.
    assert not [p.name for p in project.iterdir() if ".partial-" in p.name]


def test_diff_builds_reused_after_a_failed_base_synth_keeps_nothing_stale(tmp_path: Path) -> None:
    project = write_project(tmp_path / "repo", "staging", stack_file_values("staging"))
    git = (GIT, "-c", "user.name=t", "-c", "user.email=t@example.com")
    good = (project / "Pulumi.staging.yaml").read_text()
    (project / "Pulumi.staging.yaml").write_text("config: [1, {\n")
    for args in (("init", "-q", "-b", "main"), ("add", "."), ("commit", "-q", "-m", "broken base")):
        subprocess.run([*git, *args], cwd=project, check=True)
    (project / "Pulumi.staging.yaml").write_text(good)
    builds = tmp_path / "builds"
    # What an earlier, successful run left: a base build that is not this base's.
    stale = samokoder_infra(
        project, "synth", "staging", "--out", str(builds / "base" / "staging"), timeout=300
    )
    assert stale.returncode == 0, stale.stderr[-500:]
    with_git = {"PATH": os.pathsep.join([str(Path(sys.executable).parent), str(Path(GIT).parent)])}
    result = samokoder_infra(project, "diff", "staging", "--builds", str(builds), env=with_git, timeout=300)
    assert result.returncode == 2, (result.returncode, result.stdout[-300:], result.stderr[-500:])
    assert "Traceback" not in result.stderr
    assert "no change" not in result.stdout
    assert not (builds / "base" / "staging").exists(), result.stderr[-600:]
