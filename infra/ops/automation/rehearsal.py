"""Running the migration rehearsal in the stack's cluster through kubectl, and always cleaning up.

The copy and its Job live outside Pulumi's state on purpose: they exist for one run, and a
`pulumi up` must neither wait for them nor delete them half-way. Deleting the Cluster deletes
its instance and volumes (CloudNativePG owns them).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra.conventions import APP_NAMESPACE
from infra.ops.releases.rehearsal import Verdict, judge

Progress = Callable[[str], None]
# CloudNativePG's first instance and its PostgreSQL container (pkg/specs/pods.go:78,602-604 at v1.30.0).
INSTANCE_SUFFIX, POSTGRES_CONTAINER = "-1", "postgres"


class RehearsalError(RuntimeError):
    """The rehearsal could not run (kubectl failed, a wait timed out); the message says where."""


@dataclass(frozen=True)
class Kubectl:
    program: str = "kubectl"
    namespace: str = APP_NAMESPACE

    def __call__(self, *args: str, stdin: str | None = None, check: bool = True) -> str:
        command = [self.program, "--namespace", self.namespace, *args]
        run = subprocess.run(command, input=stdin, capture_output=True, text=True, check=False)
        if check and run.returncode != 0:
            raise RehearsalError(f"kubectl {' '.join(args[:2])} failed: {run.stderr.strip()}")
        return run.stdout


def squawk_program() -> str:
    """squawk from this virtualenv (the squawk-cli wheel), else from PATH."""
    beside = Path(sys.executable).parent / "squawk"
    return str(beside) if beside.is_file() else "squawk"


def _job_outcome(kubectl: Kubectl, job: str, deadline: float, poll: float) -> str:
    while True:
        state = kubectl("get", f"job/{job}", "-o", "jsonpath={.status.succeeded}/{.status.failed}")
        succeeded, _, failed = state.partition("/")
        if succeeded or failed:
            return "succeeded" if succeeded else "failed"
        if time.monotonic() > deadline:
            raise RehearsalError(f"job/{job} did not finish in time")
        time.sleep(poll)


def rehearse(
    kubectl: Kubectl,
    cluster: Mapping[str, Any],
    job: Mapping[str, Any],
    *,
    timeout_seconds: int,
    progress: Progress,
    poll_seconds: float = 5,
) -> Verdict:
    copy, job_name = cluster["metadata"]["name"], job["metadata"]["name"]
    deadline = time.monotonic() + timeout_seconds
    try:
        progress(f"restoring {copy} from the object store (CloudNativePG recovery) ...")
        kubectl("apply", "-f", "-", stdin=yaml.safe_dump(dict(cluster)))
        kubectl("wait", "--for=condition=Ready", f"cluster/{copy}", f"--timeout={timeout_seconds}s")
        progress(f"{copy} is ready; migrating it with job/{job_name} ...")
        kubectl("apply", "-f", "-", stdin=yaml.safe_dump(dict(job)))
        outcome = _job_outcome(kubectl, job_name, deadline, poll_seconds)
        progress(f"job/{job_name} {outcome}; judging its DDL ...")
        steps = kubectl("logs", f"job/{job_name}", check=False)
        server = kubectl("logs", f"{copy}{INSTANCE_SUFFIX}", "-c", POSTGRES_CONTAINER)
        verdict = judge(steps, server, squawk=squawk_program())
        if not verdict.steps:
            raise RehearsalError(f"job/{job_name} ran no step; its output:\n{steps.strip()[-2000:]}")
        return verdict
    finally:
        progress(f"deleting job/{job_name} and cluster/{copy}")
        kubectl("delete", "job", job_name, "--ignore-not-found", "--wait=false", check=False)
        kubectl("delete", "cluster", copy, "--ignore-not-found", "--wait=false", check=False)
