"""The restore drill's run in a cluster, against a stand-in kubectl: the running database asked which
tables hold rows, the copy created, timed and checked, the outcome pushed, the copy deleted whatever
happens."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.ops.automation.drill import DrillError, restore_drill
from infra.ops.automation.rehearsal import Kubectl
from tests.tools import tool

RUN = "9f8e7d"
COPY = f"samokoder-db-drill-{RUN}"
CLUSTER = {"kind": "Cluster", "metadata": {"name": COPY}}
POLICY = {"kind": "NetworkPolicy", "metadata": {"name": "restore-drill"}}
JOB = f"restore-drill-{RUN}"
KINDS = "clusters.postgresql.cnpg.io,jobs.batch,networkpolicies.networking.k8s.io"
SWEEP = f"delete {KINDS} -l samokoder.ru/drill --ignore-not-found --wait=false"
CLEANUP = f"delete {KINDS} -l samokoder.ru/drill={RUN} --ignore-not-found --wait=false"
PUSH = "create --raw /api/v1/namespaces/monitoring/services/http:prometheus-pushgateway:9091/proxy"
ASKED = "exec svc/samokoder-db-r -c postgres -- psql"

STAND_IN = """\
import json, pathlib, shutil, sys
work = pathlib.Path(sys.argv[0]).parent
args = sys.argv[3:]
with (work / "calls").open("a") as out:
    out.write(" ".join(args) + "\\n")
if args[:2] == ["create", "--raw"]:
    shutil.copy(args[-1], work / "pushed")
answers = json.loads((work / "answers.json").read_text())
for prefix, (code, text) in answers.items():
    if " ".join(args).startswith(prefix):
        print(text, end="", file=sys.stderr if code else sys.stdout)
        sys.exit(code)
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


def check_job(nonempty: Any) -> dict[str, Any]:
    return {"kind": "Job", "metadata": {"name": JOB}, "nonempty": list(nonempty)}


def drill(tmp_path: Path, answers: dict[str, tuple[int, str]], served: str = "samokoder-db") -> Any:
    archive = None if served == "samokoder-db" else served
    said: list[str] = []
    outcome = restore_drill(
        kubectl(tmp_path, answers),
        "prod",
        RUN,
        [POLICY, CLUSTER],
        check_job,
        served=served,
        archive=archive,
        timeout_seconds=30,
        progress=said.append,
    )
    return outcome, said


def test_a_good_drill_times_the_restore_checks_pushes_success_and_deletes_the_copy(tmp_path: Path) -> None:
    answers = {
        ASKED: (0, "users\nprojects\nnot_ours\n"),
        f"get job/{JOB}": (0, "1/"),
        f"logs job/{JOB}": (0, "restore drill: passed\n"),
    }
    outcome, said = drill(tmp_path, answers)
    assert outcome.passed
    assert outcome.restore_seconds is not None
    assert "restore drill: passed" in outcome.report
    made = calls(tmp_path)
    assert made[0].startswith(ASKED)
    assert made[1] == SWEEP
    assert made[3] == f"wait --for=condition=Ready clusters.postgresql.cnpg.io/{COPY} --timeout=30s"
    assert made[-2] == CLEANUP
    assert made[-1].startswith(f"{PUSH}/metrics/job/samokoder-restore-drill/stack/prod -f ")
    pushed = (tmp_path / "pushed").read_text()
    assert "samokoder_restore_drill_success 1.000" in pushed
    assert "samokoder_restore_drill_last_success_timestamp_seconds" in pushed
    assert "samokoder_restore_drill_restore_seconds" in pushed
    assert any("holds rows in 2 of" in line for line in said)


def test_after_a_cut_over_the_restored_cluster_is_asked_which_tables_hold_rows(tmp_path: Path) -> None:
    restored = "samokoder-db-restore-20261126-0630"
    asked = f"exec svc/{restored}-r -c postgres -- psql"
    answers = {asked: (0, "users\n"), f"get job/{JOB}": (0, "1/"), f"logs job/{JOB}": (0, "passed\n")}
    outcome, said = drill(tmp_path, answers, served=restored)
    assert outcome.passed
    assert calls(tmp_path)[0].startswith(asked)
    assert not any(call.startswith(ASKED) for call in calls(tmp_path))
    assert f"{restored} holds rows in 1 of" in said[0]
    # Its outcome is the restored archive's: the old archive's last success does not speak for it.
    (push,) = (call for call in calls(tmp_path) if call.startswith(PUSH))
    assert push.startswith(f"{PUSH}/metrics/job/samokoder-restore-drill/stack/prod/archive/{restored} -f ")


def test_the_check_job_is_built_for_the_tables_with_rows_only(tmp_path: Path) -> None:
    built: list[list[str]] = []

    def job(nonempty: Any) -> dict[str, Any]:
        built.append(list(nonempty))
        return check_job(nonempty)

    answers = {ASKED: (0, "users\nnot_ours\n"), f"get job/{JOB}": (0, "1/")}
    restore_drill(
        kubectl(tmp_path, answers),
        "prod",
        RUN,
        [CLUSTER],
        job,
        served="samokoder-db",
        archive=None,
        timeout_seconds=30,
        progress=lambda _: None,
    )
    # A name the app's tables do not hold is no table of the app's: left out.
    assert built == [["users"]]


def test_a_failed_check_pushes_failure_without_a_success_time(tmp_path: Path) -> None:
    answers = {
        ASKED: (0, "users\n"),
        f"get job/{JOB}": (0, "/1"),
        f"logs job/{JOB}": (0, "ERROR:  restore drill: the copy lacks table(s) projects\n"),
    }
    outcome, _ = drill(tmp_path, answers)
    assert not outcome.passed
    assert "lacks table(s) projects" in outcome.report
    pushed = (tmp_path / "pushed").read_text()
    assert "samokoder_restore_drill_success 0.000" in pushed
    assert "last_success" not in pushed
    assert CLEANUP in calls(tmp_path)


def test_a_copy_that_never_gets_ready_fails_is_deleted_and_pushed(tmp_path: Path) -> None:
    answers = {ASKED: (0, "users\n"), "wait ": (1, "timed out waiting for the condition")}
    outcome, said = drill(tmp_path, answers)
    assert not outcome.passed
    assert outcome.restore_seconds is None
    assert "timed out" in outcome.report
    made = calls(tmp_path)
    assert not any(line.startswith(f"get job/{JOB}") for line in made)
    assert made[-2] == CLEANUP
    pushed = (tmp_path / "pushed").read_text().splitlines()
    assert "samokoder_restore_drill_success 0.000" in pushed
    # Its restore time replaces the last run's (a POST replaces the families it carries) with no value.
    assert "samokoder_restore_drill_restore_seconds nan" in pushed
    assert not any("last_success" in line for line in pushed)
    assert any("the drill stopped" in line for line in said)


def test_a_check_that_cannot_finish_still_pushes_the_restores_time(tmp_path: Path) -> None:
    # The copy got ready; the Job's status could not be read (the API went away mid-drill).
    answers = {ASKED: (0, "users\n"), f"get job/{JOB}": (1, "error: connection refused")}
    outcome, _ = drill(tmp_path, answers)
    assert not outcome.passed
    assert outcome.restore_seconds is not None
    pushed = (tmp_path / "pushed").read_text()
    assert "samokoder_restore_drill_success 0.000" in pushed
    assert "samokoder_restore_drill_restore_seconds" in pushed
    assert "nan" not in pushed


def test_an_outcome_that_cannot_be_pushed_is_an_error(tmp_path: Path) -> None:
    answers = {ASKED: (0, "users\n"), f"get job/{JOB}": (0, "1/"), "create --raw": (1, "503 no endpoints")}
    with pytest.raises(DrillError, match=r"could not be pushed to the Pushgateway: .*503 no endpoints"):
        drill(tmp_path, answers)
    assert CLEANUP in calls(tmp_path)


@pytest.mark.tool
def test_promtool_parses_a_push_without_a_restore_time_as_the_text_format(tmp_path: Path) -> None:
    # The Pushgateway reads the body with the same text-format parser (handler/push.go:89-114 at
    # v1.11.3); promtool check metrics rejects a value that is not a float ("expected float as value").
    drill(tmp_path, {ASKED: (0, "users\n"), "wait ": (1, "timed out waiting for the condition")})
    pushed = (tmp_path / "pushed").read_text()
    assert " nan\n" in pushed
    run = subprocess.run(
        [str(tool("promtool")), "check", "metrics"], input=pushed, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
