"""Running the migration rehearsal in the stack's cluster through kubectl, and always cleaning up.

The copy and its Job live outside Pulumi's state on purpose: they exist for one run, and a
`pulumi up` must neither wait for them nor delete them half-way. Deleting the Cluster deletes
its instance and volumes (CloudNativePG owns them).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra.conventions import APP_NAMESPACE
from infra.ops.releases.rehearsal import Verdict, judge
from infra.render.workloads.rehearsal import RUN_LABEL

Progress = Callable[[str], None]
# CloudNativePG's first instance and its PostgreSQL container (pkg/specs/pods.go:78,602-604 at v1.30.0).
INSTANCE_SUFFIX, POSTGRES_CONTAINER = "-1", "postgres"
# By their full names: "cluster" alone may be another API group's.
CLUSTERS = "clusters.postgresql.cnpg.io"
KINDS = f"{CLUSTERS},jobs.batch,networkpolicies.networking.k8s.io"


class RehearsalError(RuntimeError):
    """The rehearsal could not run (kubectl failed, a wait timed out); the message says where."""


@dataclass(frozen=True)
class Kubectl:
    program: str = "kubectl"
    namespace: str = APP_NAMESPACE

    def __call__(self, *args: str, stdin: str | None = None, check: bool = True) -> str:
        command = [self.program, "--namespace", self.namespace, *args]
        try:
            run = subprocess.run(command, input=stdin, capture_output=True, text=True, check=False)
        except OSError as error:
            raise RehearsalError(f"{self.program} could not run: {error.strerror}") from None
        if check and run.returncode != 0:
            raise RehearsalError(f"kubectl {' '.join(args[:2])} failed: {run.stderr.strip()}")
        return run.stdout


def squawk_program() -> str:
    """squawk from this virtualenv (the squawk-cli wheel), else from PATH."""
    beside = Path(sys.executable).parent / "squawk"
    return str(beside) if beside.is_file() else "squawk"


@contextmanager
def scratch(kubectl: Kubectl, label: str, run: str, progress: Progress) -> Iterator[None]:
    """A run's objects, all labelled ``label``=``run``: what a run that died left behind (the runner
    lost, the job cancelled: another copy of the data) goes first, this run's go after, whatever
    happened. The rehearsal and the restore drill each sweep their own label only."""
    kubectl("delete", KINDS, "-l", label, "--ignore-not-found", "--wait=false", check=False)
    try:
        yield
    finally:
        progress(f"deleting the run's objects ({label}={run})")
        kubectl("delete", KINDS, "-l", f"{label}={run}", "--ignore-not-found", "--wait=false", check=False)


def restore_copy(kubectl: Kubectl, objects: Sequence[Mapping[str, Any]], timeout_seconds: int) -> str:
    """Create ``objects`` (a copy's Cluster and its policies) and wait for the copy to be Ready;
    returns the copy's name."""
    (copy,) = (str(o["metadata"]["name"]) for o in objects if o["kind"] == "Cluster")
    kubectl("create", "-f", "-", stdin=yaml.safe_dump_all([dict(o) for o in objects]))
    kubectl("wait", "--for=condition=Ready", f"{CLUSTERS}/{copy}", f"--timeout={timeout_seconds}s")
    return copy


def job_outcome(kubectl: Kubectl, job: str, deadline: float, poll: float) -> str:
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
    run: str,
    objects: Sequence[Mapping[str, Any]],
    *,
    timeout_seconds: int,
    progress: Progress,
    pg_version: str,
    poll_seconds: float = 5,
) -> Verdict:
    """``objects``: the run's policies, its copy (a Cluster) and its Job, all labelled with ``run``."""
    (copy,) = (o["metadata"]["name"] for o in objects if o["kind"] == "Cluster")
    (job,) = (o["metadata"]["name"] for o in objects if o["kind"] == "Job")
    deadline = time.monotonic() + timeout_seconds
    with scratch(kubectl, RUN_LABEL, run, progress):
        progress(f"restoring {copy} from the object store (CloudNativePG recovery) ...")
        restore_copy(kubectl, [o for o in objects if o["kind"] != "Job"], timeout_seconds)
        progress(f"{copy} is ready; migrating it with job/{job} ...")
        kubectl(
            "create", "-f", "-", stdin=yaml.safe_dump_all([dict(o) for o in objects if o["kind"] == "Job"])
        )
        outcome = job_outcome(kubectl, job, deadline, poll_seconds)
        progress(f"job/{job} {outcome}; judging its DDL ...")
        steps = kubectl("logs", f"job/{job}", check=False)
        server = kubectl("logs", f"{copy}{INSTANCE_SUFFIX}", "-c", POSTGRES_CONTAINER)
        try:
            verdict = judge(steps, server, squawk=squawk_program(), pg_version=pg_version)
        except (ValueError, RuntimeError, OSError) as error:
            raise RehearsalError(f"the rehearsal's output could not be judged: {error}") from None
        if not verdict.steps:
            raise RehearsalError(f"job/{job} ran no step; its output:\n{steps.strip()[-2000:]}")
        return verdict
