"""Applying a cut-over: the stack's `cut_over` config, a checked update, then the app moved and verified.

The update goes through Pulumi, as restore's does: the stack's config is
set, a preview must change only what a cut-over changes (the app's Lockbox
secret, NetworkPolicies, the restored cluster's Pooler, ScheduledBackup and
PodMonitor, the database's alert rules, its dashboard and the golden signals' (whose Logs row
shows the served cluster), updated or, ConfigMaps, replaced) or the config is put
back and nothing is applied; then the update. External
Secrets is then asked to refresh the app's Secret at once (rather than within
its hour), the pods that read it are restarted, and the result is checked
from inside: an app pod connects with its own URL and asks the server its
cluster's name. Going back is the same path with the config removed.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pulumi import automation as auto

from infra.app_contract import DATABASE_URL, WORKER
from infra.conventions import APP_SECRET, primary_name, workload_name
from infra.conventions import CUT_OVER_KEY as KEY
from infra.ops.automation.rehearsal import Kubectl, RehearsalError
from infra.ops.automation.stack import OperationError, Step, policy_options, preview_steps, select
from infra.ops.releases.smoke import SmokeResult

Progress = Callable[[str], None]
# What a cut-over (or its undo) may do: the app's Lockbox secret gets a new DATABASE_HOST; the
# app's and the poolers' policies follow; the restored cluster's Pooler, base backups and PodMonitor
# come or go; the database's alerts and dashboard select the cluster that serves.
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
# Those of the restored cluster alone, by the names components/database.py (Database._served)
# gives them: a pending change to the running cluster's Pooler or backups is no cut-over's.
RESTORED_OBJECTS = {
    "kubernetes:postgresql.cnpg.io/v1:Pooler": "pooler",
    "kubernetes:postgresql.cnpg.io/v1:ScheduledBackup": "scheduled-backup",
    "kubernetes:monitoring.coreos.com/v1:PodMonitor": "pod-monitor",
}
# The database's rule file and the dashboards that read settings.database_cluster, by the names
# components/monitoring.py gives them: updated, or replaced (a ConfigMap's data, below).
MONITORING_OBJECTS = {
    ("kubernetes:monitoring.coreos.com/v1:PrometheusRule", "::monitoring-rules-database"),
    ("kubernetes:core/v1:ConfigMap", "::monitoring-dashboard-samokoder-database"),
    # Its Logs row shows the served cluster's pods.
    ("kubernetes:core/v1:ConfigMap", "::monitoring-dashboard-samokoder-golden-signals"),
}
LOCKBOX = ("pulumi-python:dynamic:Resource", "::secrets-app")
NEUTRAL_OPS = {"same", "read", "refresh"}
REPLACING_OPS = {"replace", "create-replacement", "delete-replaced"}
CHANGING_OPS = {"create", "update", "delete", "create-replacement", "delete-replaced", "replace"}
# external-secrets v2.9.0: any change of an ExternalSecret's annotations reconciles it
# (pkg/controllers/externalsecret/externalsecret_controller.go:1441), and a resource version it
# has not synced refreshes it now (:1255-1257); docs/api/externalsecret.md:143-147 names this one.
FORCE_SYNC = "force-sync"
# Who reads the Secret at start: the promoted API pods Flagger runs and the worker. The migration
# Job reads it when the next release runs. Flagger 1.44.0 leaves a restart of its primary alone: it
# creates the primary only when it is missing (pkg/canary/deployment_controller.go:253) and writes
# its pod template only at a promotion, from the target's (:65-128), which rolls the pods anyway;
# it compares only the target's template with the last promoted one (:140-148), so restarting the
# target, samokoder-api, would start a canary analysis. With config tracking off (infra/render/
# flagger.py) the primary reads samokoder-app-secrets itself, not a "-primary" copy.
RESTARTED = (primary_name("api"), workload_name("worker"))
PYTHON = f"{WORKER.command[0].rsplit('/', 1)[0]}/python"
# CloudNativePG sets PostgreSQL's cluster_name to the Cluster's name
# (pkg/postgres/configuration.go:777 at v1.30.0): which cluster the app's URL reaches.
WHICH_CLUSTER = f"""
import asyncio, os, asyncpg
async def main():
    url = os.environ["{DATABASE_URL.name}"].replace("postgresql+asyncpg://", "postgresql://", 1)
    connection = await asyncpg.connect(url, timeout=10)
    try:
        print(await connection.fetchval("SELECT current_setting('cluster_name')"))
    finally:
        await connection.close()
asyncio.run(main())
"""


@dataclass(frozen=True)
class CutOverPlan:
    stack: str
    # The restored cluster to serve the app from, or None: back to the running cluster.
    to: str | None
    # The cluster that will serve the app, and the DATABASE_HOST that reaches it.
    cluster: str
    host: str
    # The stack's restored cluster (samokoder:restore.into), whose Pooler, ScheduledBackup and PodMonitor
    # a cut-over creates and its undo deletes; None: the stack has none (only --back can have none).
    restored: str | None = None


def unexpected(steps: Iterable[Step], restored: str | None) -> list[Step]:
    """The steps of a preview a cut-over (to or back from ``restored``) must not make."""

    def ours(step: Step) -> bool:
        part = RESTORED_OBJECTS.get(step.type)
        return (
            restored is not None
            and part is not None
            and step.urn.endswith(f"::database-restore-{restored}-{part}")
        )

    def allowed(step: Step) -> bool:
        if step.op in NEUTRAL_OPS:
            return True

        def named(objects: Iterable[tuple[str, str]]) -> bool:
            return any(step.type == kind and step.urn.endswith(name) for kind, name in objects)

        # pulumi-kubernetes replaces a ConfigMap whose data changes (provider/pkg/provider/diff.go:32-33,
        # enableConfigMapMutable unset): the dashboard's change is a replace, not an update.
        updated = (step.op == "update" and named({LOCKBOX, *MONITORING_OBJECTS})) or (
            step.op in REPLACING_OPS and named(MONITORING_OBJECTS)
        )
        return updated or ((step.type == POLICY or ours(step)) and step.op in CHANGING_OPS)

    return [s for s in steps if not allowed(s)]


def _set(stack: auto.Stack, to: str | None) -> None:
    if to is None:
        stack.remove_config(KEY, path=True)
    else:
        stack.set_config(f"{KEY}.to", auto.ConfigValue(to), path=True)


def update(plan: CutOverPlan, project_dir: Path, on_output: Progress) -> None:
    """Record the choice and apply it through Pulumi; a preview that changes more applies nothing."""
    stack = select(plan.stack, project_dir)
    # Under the policy pack, as every update is.
    policies = policy_options(plan.stack, project_dir)
    previous = {k: v for k, v in stack.get_all_config().items() if k == KEY or k.startswith(f"{KEY}.")}

    def put_back() -> None:
        stack.remove_config(KEY, path=True)
        for key, value in previous.items():
            stack.set_config(key, value)

    _set(stack, plan.to)
    try:
        on_output(f"previewing the cut-over to {plan.cluster} ...\n")
        wrong = unexpected(preview_steps(stack, **policies), plan.restored)
    except auto.errors.CommandError as error:
        put_back()
        raise OperationError(
            f"the preview failed; nothing was applied, the config is as before:\n{error}"
        ) from None
    if wrong:
        put_back()
        listed = "\n".join(f"  {s.op} {s.type} {s.urn}" for s in wrong)
        raise OperationError(
            "the preview changes more than a cut-over does (a release or other change is pending: apply "
            f"it first); nothing was applied, the config is as before:\n{listed}"
        )
    try:
        stack.up(on_output=on_output, **policies)
    except auto.errors.CommandError as error:
        # Some resources may be updated: the config is left as asked, so that the same command
        # finishes the cut-over and the opposite one undoes it; neither leaves it half-way.
        left = f"at {plan.to!r}" if plan.to else "removed"
        raise OperationError(
            f"the update failed part-way: {KEY} is left {left} and "
            "the stack may be partly updated; the app's pods were not restarted. Run the same command "
            "again to finish, or the opposite one to undo, before External Secrets' hourly refresh:\n"
            f"{error}"
        ) from None


def move_the_app(
    plan: CutOverPlan,
    kubectl: Kubectl,
    *,
    smoke: Callable[[], SmokeResult],
    progress: Progress,
    timeout_seconds: int,
    poll_seconds: float = 5,
) -> None:
    """After the update: refresh the app's Secret, restart its readers, check which cluster they reach."""
    try:
        _refresh(plan, kubectl, progress, timeout_seconds, poll_seconds)
        for deployment in RESTARTED:
            progress(f"restarting deployment/{deployment} ...")
            kubectl("rollout", "restart", f"deployment/{deployment}")
        progress(f"waiting for the rollouts (up to {timeout_seconds} s each) ...")
        for deployment in RESTARTED:
            kubectl("rollout", "status", f"deployment/{deployment}", f"--timeout={timeout_seconds}s")
        progress(f"checking which cluster the app reaches (from deployment/{workload_name('worker')}) ...")
        reached = kubectl("exec", f"deployment/{workload_name('worker')}", "--", PYTHON, "-c", WHICH_CLUSTER)
    except RehearsalError as error:
        raise OperationError(
            f"the stack is updated, but moving the app failed: {error}. Run the same command again to "
            "finish (it is safe to repeat), or the opposite one to undo"
        ) from None
    if reached.strip() != plan.cluster:
        raise OperationError(
            f"the app reaches {reached.strip()!r}, not {plan.cluster!r}: run the same command again, or "
            "the opposite one to undo"
        )
    result = smoke()
    if not result.healthy:
        raise OperationError(
            f"the app reaches {plan.cluster}, but {result.summary()} ("
            + "; ".join(f"{v.probe}: {v.detail}" for v in result.failed)
            + "); look at the pods (kubectl -n samokoder get pods), or undo with the opposite command"
        )


def _refresh(plan: CutOverPlan, kubectl: Kubectl, progress: Progress, timeout: int, poll: float) -> None:
    progress(f"asking External Secrets to refresh secret/{APP_SECRET} now ...")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    kubectl("annotate", f"externalsecret/{APP_SECRET}", f"{FORCE_SYNC}={stamp}", "--overwrite")
    deadline = time.monotonic() + timeout
    while True:
        encoded = kubectl("get", f"secret/{APP_SECRET}", "-o", "jsonpath={.data.DATABASE_HOST}")
        try:
            host = base64.b64decode(encoded.strip(), validate=True).decode(errors="replace")
        except ValueError:
            host = f"(not base64: {encoded.strip()[:40]!r})"
        if host == plan.host:
            progress(f"secret/{APP_SECRET}: DATABASE_HOST is {host}")
            return
        if time.monotonic() > deadline:
            raise RehearsalError(
                f"secret/{APP_SECRET} still has DATABASE_HOST {host!r}, not {plan.host!r}, after {timeout} s "
                "(kubectl -n samokoder describe externalsecret samokoder-app-secrets)"
            )
        time.sleep(poll)
