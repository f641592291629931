"""Running the restore drill in the stack's cluster through kubectl: the rehearsal's copy machinery
(sweep, create, wait, delete: infra/ops/automation/rehearsal.py), the check Job, and the outcome
pushed to the Pushgateway whatever happened.

The restore's time is the copy's creation to its Ready condition, as the runner sees it: what an
operator restoring the stack would wait for.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from infra.app_contract import TABLES
from infra.ops.automation.rehearsal import (
    POSTGRES_CONTAINER,
    Kubectl,
    Progress,
    RehearsalError,
    job_outcome,
    restore_copy,
    scratch,
)
from infra.render.workloads import drill

POLL_SECONDS = 5.0
# The check Job for the tables the running database holds rows in.
CheckJob = Callable[[Sequence[str]], Mapping[str, Any]]


class DrillError(RuntimeError):
    """The drill's outcome could not be recorded (the push failed); the message says why."""


@dataclass(frozen=True)
class DrillOutcome:
    passed: bool
    # None: the copy never got ready.
    restore_seconds: float | None
    # What the check printed, or why the drill stopped.
    report: str


def nonempty_tables(kubectl: Kubectl, served: str) -> list[str]:
    """The app's tables that hold rows in the database serving the app, the cluster ``served`` (read-only,
    one row each)."""
    command = drill.psql(drill.nonempty_sql(), drill.DATABASE)
    answer = kubectl("exec", drill.serving_instances(served), "-c", POSTGRES_CONTAINER, "--", *command)
    return [line for line in answer.split() if line in TABLES]


def _check(kubectl: Kubectl, job: Mapping[str, Any], deadline: float) -> tuple[bool, str]:
    kubectl("create", "-f", "-", stdin=yaml.safe_dump(dict(job)))
    outcome = job_outcome(kubectl, job["metadata"]["name"], deadline, POLL_SECONDS)
    report = kubectl("logs", f"job/{job['metadata']['name']}", check=False)
    return outcome == "succeeded", report


def push(
    kubectl: Kubectl, stack: str, archive: str | None, outcome: DrillOutcome, finished_at: float
) -> None:
    """The run's outcome to the group of ``stack`` and the ``archive`` it restored (plan.drill_group)."""
    metrics = drill.drill_metrics(
        passed=outcome.passed, restore_seconds=outcome.restore_seconds, finished_at=finished_at
    )
    with tempfile.NamedTemporaryFile("w", suffix=".prom") as body:
        body.write(metrics)
        body.flush()
        try:
            kubectl("create", "--raw", drill.push_path(stack, archive), "-f", body.name)
        except RehearsalError as error:
            raise DrillError(f"the outcome could not be pushed to the Pushgateway: {error}") from None


def restore_drill(
    kubectl: Kubectl,
    stack: str,
    run: str,
    copy_objects: Sequence[Mapping[str, Any]],
    check_job: CheckJob,
    *,
    served: str,
    archive: str | None,
    timeout_seconds: int,
    progress: Progress,
) -> DrillOutcome:
    """``copy_objects``: the run's copy (a Cluster of ``served``'s archive, the cluster serving the app)
    and its policies, labelled with ``run``; the copy is checked against what ``served`` holds, and
    the outcome pushed to the group of ``archive`` (plan.drill_group)."""
    (copy,) = (o["metadata"]["name"] for o in copy_objects if o["kind"] == "Cluster")
    restore_seconds: float | None = None
    try:
        nonempty = nonempty_tables(kubectl, served)
        progress(f"{served} holds rows in {len(nonempty)} of the app's {len(TABLES)} tables")
        job = check_job(nonempty)
        with scratch(kubectl, drill.RUN_LABEL, run, progress):
            progress(f"restoring {copy} from the object store (CloudNativePG recovery) ...")
            started = time.monotonic()
            restore_copy(kubectl, copy_objects, timeout_seconds)
            # Kept before the check runs: a check that cannot finish still reports the restore's time.
            restore_seconds = time.monotonic() - started
            progress(
                f"{copy} was ready in {restore_seconds:.0f} s; checking it with job/{job['metadata']['name']}"
            )
            passed, report = _check(kubectl, job, started + timeout_seconds)
        outcome = DrillOutcome(passed, restore_seconds, report)
    except RehearsalError as error:
        progress(f"the drill stopped: {error}")
        outcome = DrillOutcome(False, restore_seconds, str(error))
    push(kubectl, stack, archive, outcome, time.time())
    progress(f"pushed the outcome ({'passed' if outcome.passed else 'failed'}) to the Pushgateway")
    return outcome
