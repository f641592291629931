"""scripts/canary-verdict: the deploy's wait for Flagger's verdict, against a stand-in kubectl.

The stand-in answers each poll from a list of the Canary's states (phase, last transition, the
target's and the promoted copy's images), one state per poll, as Flagger moves them: the script
must succeed only once the promoted copy runs the target's images, fail on a rollback that
happened after the update, fail soon on an image Flagger rolled back before, and time out.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.conftest import PROJECT_DIR

SCRIPT = PROJECT_DIR / "scripts" / "canary-verdict"
OLD, NEW = "cr.yandex/r/api@sha256:" + "1" * 64, "cr.yandex/r/api@sha256:" + "2" * 64

STAND_IN = """\
import json, pathlib, sys
work = pathlib.Path(sys.argv[0]).parent
states = json.loads((work / "states.json").read_text())
count = work / "polls"
polls = int(count.read_text()) if count.exists() else 0
args = sys.argv[1:]
verb, what = args[2], args[3]
if verb == "describe":
    print("Events:\\n  Warning  Synced  flagger  Canary failed! Scaling down samokoder-api.samokoder")
    sys.exit(0)
path = args[-1].removeprefix("jsonpath=")
if path == "{.status.phase}":
    polls += 1
    count.write_text(str(polls))
state = states[min(max(polls - 1, 0), len(states) - 1)]
if what == "deployment/samokoder-api-primary" and state.get("primary") is None:
    print('Error from server (NotFound): deployments.apps "samokoder-api-primary" not found', file=sys.stderr)
    sys.exit(1)
answers = {
    "{.spec.targetRef.name}": "samokoder-api",
    "{.spec.analysis.interval}": state.get("interval", "5m"),
    "{.status.phase}": state.get("phase", ""),
    "{.status.lastTransitionTime}": state.get("changed", ""),
    "{.status.canaryWeight}": str(state.get("weight", 0)),
    "{.status.failedChecks}": str(state.get("failed", 0)),
}
if what == "deployment/samokoder-api":
    print(state["target"], end="")
elif what == "deployment/samokoder-api-primary":
    print(state["primary"], end="")
else:
    print(answers[path], end="")
"""


def stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def verdict(
    tmp_path: Path, states: list[dict[str, Any]], *, since: float, timeout: int = 30, grace: int = 60
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "states.json").write_text(json.dumps(states))
    kubectl = tmp_path / "kubectl"
    kubectl.write_text(f"#!{sys.executable}\n{STAND_IN}")
    kubectl.chmod(0o755)
    return subprocess.run(
        [str(SCRIPT), "samokoder", "samokoder-api", str(timeout), str(int(since))],
        capture_output=True,
        text=True,
        check=False,
        env={
            "PATH": "/usr/bin:/bin",
            "KUBECTL": str(kubectl),
            "CANARY_POLL_SECONDS": "0",
            "CANARY_PICKUP_GRACE_SECONDS": str(grace),
        },
        timeout=120,
    )


def test_a_release_flagger_promotes_passes_once_the_primary_runs_it(tmp_path: Path) -> None:
    since = time.time() - 60
    before: dict[str, Any] = {
        "phase": "Succeeded",
        "changed": stamp(since - 3600),
        "target": NEW,
        "primary": OLD,
    }
    states: list[dict[str, Any]] = [
        before,
        {**before, "phase": "Progressing", "changed": stamp(since + 300), "target": NEW},
        {**before, "phase": "Progressing", "changed": stamp(since + 600), "weight": 25},
        {**before, "phase": "Promoting", "changed": stamp(since + 900), "primary": NEW},
        {**before, "phase": "Succeeded", "changed": stamp(since + 1200), "primary": NEW},
    ]
    run = verdict(tmp_path, states, since=since)
    assert run.returncode == 0, run.stderr
    # Not on the stale Succeeded of the release before, nor while promoting.
    assert (tmp_path / "polls").read_text() == "5"
    assert f"samokoder-api Succeeded; samokoder-api-primary runs {NEW}" in run.stdout
    assert "weight 25 %" in run.stdout


def test_a_first_run_passes_when_flagger_has_initialised_the_primary(tmp_path: Path) -> None:
    since = time.time()
    states: list[dict[str, Any]] = [
        {"phase": "", "target": NEW, "primary": None},
        {"phase": "Initialized", "changed": stamp(since + 30), "target": NEW, "primary": NEW},
    ]
    run = verdict(tmp_path, states, since=since)
    assert run.returncode == 0, run.stderr
    assert "not initialised" in run.stdout


def test_a_rollback_after_the_update_fails_and_says_why_without_undoing_anything(tmp_path: Path) -> None:
    since = time.time() - 60
    states: list[dict[str, Any]] = [
        {"phase": "Progressing", "changed": stamp(since + 300), "target": NEW, "primary": OLD, "failed": 1},
        {"phase": "Failed", "changed": stamp(since + 900), "target": NEW, "primary": OLD},
    ]
    run = verdict(tmp_path, states, since=since)
    assert run.returncode == 1
    assert f"Flagger rolled samokoder-api back at {stamp(since + 900)}" in run.stderr
    assert "Canary failed! Scaling down" in run.stderr


def test_an_image_flagger_rolled_back_before_fails_once_flagger_would_have_picked_it_up(
    tmp_path: Path,
) -> None:
    """Flagger does not judge an unchanged target again: no verdict comes, so do not wait for one."""
    failed = {"phase": "Failed", "target": NEW, "primary": OLD, "interval": "30s"}
    # Within one interval (and a minute) of the update, Flagger may still be about to start.
    waiting = verdict(
        tmp_path, [{**failed, "changed": stamp(time.time() - 7200)}], since=time.time(), timeout=2
    )
    assert waiting.returncode == 1
    assert "no verdict from Flagger on samokoder-api within 2s" in waiting.stderr
    # Past it, the stale Failed is the answer (a 3 s interval and no grace keep the wait short). The
    # wait is a lower bound only (whole seconds, so at least interval - 1): a busy machine may take
    # longer, never less.
    (tmp_path / "polls").unlink()
    short = {**failed, "interval": "3s", "changed": stamp(time.time() - 7200)}
    started = time.monotonic()
    stale = verdict(tmp_path, [short], since=time.time(), timeout=30, grace=0)
    assert stale.returncode == 1
    assert "Flagger has not started on" in stale.stderr
    assert time.monotonic() - started >= 2


def test_a_long_update_after_a_rejection_still_waits_for_flaggers_next_tick(tmp_path: Path) -> None:
    """The wait for Flagger to pick the release up counts from the end of the update, not its start.

    A migration and the rest of `pulumi up` can take longer than an interval; the target's new template
    is then seconds old when the wait begins, and Flagger's next tick may be an interval away.
    """
    since = time.time() - 3600
    rejected = {"phase": "Failed", "changed": stamp(since - 7200), "target": NEW, "primary": OLD}
    states: list[dict[str, Any]] = [
        rejected,
        rejected,
        {**rejected, "phase": "Progressing", "changed": stamp(time.time() + 5)},
        {**rejected, "phase": "Succeeded", "changed": stamp(time.time() + 10), "primary": NEW},
    ]
    run = verdict(tmp_path, states, since=since)
    assert run.returncode == 0, run.stderr
    assert f"samokoder-api Succeeded; samokoder-api-primary runs {NEW}" in run.stdout


def test_the_target_back_on_the_promoted_template_after_a_rejection_is_at_rest(tmp_path: Path) -> None:
    """A rollback of a rejected release: Flagger does not judge the promoted template again."""
    state = {"phase": "Failed", "changed": stamp(time.time() - 7200), "target": OLD, "primary": OLD}
    run = verdict(tmp_path, [state], since=time.time())
    assert run.returncode == 0, run.stderr
    assert f"samokoder-api at rest; samokoder-api-primary runs {OLD}" in run.stdout


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    run = subprocess.run([str(SCRIPT), "samokoder"], capture_output=True, text=True, check=False)
    assert run.returncode == 2
    assert "usage:" in run.stderr
