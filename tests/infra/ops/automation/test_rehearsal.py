"""The rehearsal's run in a cluster, against a stand-in kubectl: the order of the calls, the verdict
from the Job's and the instance's logs, and the copy deleted whatever happens.

The instance's log lines are CloudNativePG's shape: the csvlog fields under "record", logger
"postgres" (pkg/management/postgres/logpipe/writer.go:27-43, loggingCollector.go:53-80 at v1.30.0).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.ops.automation.rehearsal import Kubectl, RehearsalError, rehearse

CLUSTER = {"kind": "Cluster", "metadata": {"name": "samokoder-db-rehearsal-b2"}}
JOB = {"kind": "Job", "metadata": {"name": "migration-rehearsal-b2"}}
POLICY = {"kind": "NetworkPolicy", "metadata": {"name": "migration-rehearsal"}}
OBJECTS = [POLICY, CLUSTER, JOB]
RUN = "9f8e7d"
KINDS = "clusters.postgresql.cnpg.io,jobs.batch,networkpolicies.networking.k8s.io"
SWEEP = f"delete {KINDS} -l samokoder.ru/rehearsal --ignore-not-found --wait=false"
CLEANUP = f"delete {KINDS} -l samokoder.ru/rehearsal={RUN} --ignore-not-found --wait=false"
T0 = 1_800_000_000.0


def step(name: str, args: list[str], start: float, rc: int = 0) -> str:
    line = {"rehearsal": name, "args": args, "start": start, "end": start + 2, "rc": rc, "output": ""}
    return json.dumps(line)


def record(at: float, severity: str, message: str, query: str = "") -> str:
    from datetime import UTC, datetime  # noqa: PLC0415

    stamp = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"
    fields = {"log_time": stamp, "error_severity": severity, "message": message, "query": query}
    return json.dumps({"level": "info", "logger": "postgres", "msg": "record", "record": fields})


QUIET: Any = {"timeout_seconds": 5, "progress": lambda _: None, "pg_version": "15.14"}

STAND_IN = """\
import json, pathlib, sys
work = pathlib.Path(sys.argv[0]).parent
calls = work / "calls"
args = sys.argv[3:]
with calls.open("a") as out:
    out.write(" ".join(args) + "\\n")
answers = json.loads((work / "answers.json").read_text())
for prefix, (code, text) in answers.items():
    if " ".join(args).startswith(prefix):
        print(text, end="")
        sys.exit(code)
if args[0] == "apply":
    sys.stdin.read()
"""


def kubectl(tmp_path: Path, answers: dict[str, tuple[int, str]]) -> Kubectl:
    # Not named kubectl: it is no real tool (tests/tools.py runs_a_real_tool).
    program = tmp_path / "stand-in-kubectl"
    program.write_text(f"#!{sys.executable}\n{STAND_IN}")
    program.chmod(0o755)
    (tmp_path / "answers.json").write_text(json.dumps(answers))
    return Kubectl(str(program))


def calls(tmp_path: Path) -> list[str]:
    return (tmp_path / "calls").read_text().splitlines()


def test_a_good_rehearsal_is_judged_from_the_logs_and_the_copy_is_deleted(tmp_path: Path) -> None:
    steps = "\n".join(
        [
            '{"rehearsal": "running", "revisions": ["a1"]}',
            step("upgrade", ["upgrade", "heads"], T0),
            step("downgrade", ["downgrade", "a1"], T0 + 3),
            step("upgrade-again", ["upgrade", "heads"], T0 + 6),
        ]
    )
    server = "\n".join(
        [
            record(T0 + 1, "LOG", "statement: ALTER TABLE projects ADD COLUMN tags TEXT"),
            record(T0 + 4, "LOG", "statement: ALTER TABLE projects DROP COLUMN tags"),
            record(T0 + 7, "LOG", "statement: ALTER TABLE projects ADD COLUMN tags TEXT"),
        ]
    )
    answers: dict[str, Any] = {
        "get job/migration-rehearsal-b2": (0, "1/"),
        "logs job/migration-rehearsal-b2": (0, steps),
        "logs samokoder-db-rehearsal-b2-1 -c postgres": (0, server),
    }
    said: list[str] = []
    verdict = rehearse(
        kubectl(tmp_path, answers), RUN, OBJECTS, timeout_seconds=60, progress=said.append, pg_version="15.14"
    )
    assert verdict.passed, verdict.report()
    assert verdict.steps[1].ddl == ["ALTER TABLE projects DROP COLUMN tags"]
    made = calls(tmp_path)
    # What a dead run left goes first; this run's objects are created (never patched), then deleted.
    assert made[:5] == [
        SWEEP,
        "create -f -",
        "wait --for=condition=Ready clusters.postgresql.cnpg.io/samokoder-db-rehearsal-b2 --timeout=60s",
        "create -f -",
        "get job/migration-rehearsal-b2 -o jsonpath={.status.succeeded}/{.status.failed}",
    ]
    assert made[-1] == CLEANUP
    assert any("restoring samokoder-db-rehearsal-b2" in line for line in said)


def test_a_copy_that_never_gets_ready_is_an_error_and_is_still_deleted(tmp_path: Path) -> None:
    answers = {"wait --for=condition=Ready": (1, "timed out waiting for the condition")}
    with pytest.raises(RehearsalError, match="kubectl wait --for=condition=Ready failed"):
        rehearse(kubectl(tmp_path, answers), RUN, OBJECTS, **QUIET)
    made = calls(tmp_path)
    assert not any(call.startswith("logs") for call in made)
    assert made[-1] == CLEANUP


def test_a_job_that_ran_no_step_says_what_it_printed(tmp_path: Path) -> None:
    answers = {
        "get job/migration-rehearsal-b2": (0, "/1"),
        "logs job/migration-rehearsal-b2": (0, "ModuleNotFoundError: No module named 'samokoder'"),
        "logs samokoder-db-rehearsal-b2-1": (0, ""),
    }
    with pytest.raises(RehearsalError, match="ran no step; its output:\nModuleNotFoundError"):
        rehearse(kubectl(tmp_path, answers), RUN, OBJECTS, **QUIET)
    assert calls(tmp_path)[-1] == CLEANUP


def test_a_log_that_cannot_be_judged_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    answers = {
        "get job/migration-rehearsal-b2": (0, "1/"),
        "logs job/migration-rehearsal-b2": (0, step("upgrade", ["upgrade", "heads"], T0)),
        "logs samokoder-db-rehearsal-b2-1": (0, '{"logger": "postgres", "record": {"log_time": "x CET"}}'),
    }
    with pytest.raises(RehearsalError, match=r"could not be judged: .*not in UTC"):
        rehearse(kubectl(tmp_path, answers), RUN, OBJECTS, **QUIET)
    assert calls(tmp_path)[-1] == CLEANUP
