"""The fault table: the Lockbox provider against the loopback API with faults injected.

Each row injects one fault into one step (create, update, read, delete) and
says what the step must do: succeed anyway (retried, adopted, already gone),
or fail with a message naming the status. Then the faults stop and the step
runs again, as the next ``pulumi up`` or ``destroy`` would: it must converge
(one secret of the name, holding the asked payload and readers; or none after
a delete). Prints handled/total.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from yandex.cloud.lockbox.v1 import secret_pb2

from infra.providers.lockbox import client
from infra.providers.lockbox.errors import LockboxError
from infra.providers.lockbox.provider import LockboxSecretProvider
from infra.providers.yandex import api as yandex_api
from infra.providers.yandex.connection import IAM_TOKEN_ENV
from tests.infra.providers.lockbox.fake_api import FakeLockbox, StoredSecret, serving_lockbox
from tests.infra.providers.lockbox.test_provider import KMS_KEY, OTHER_KMS_KEY, READER, TOKEN, VALUES, inputs
from tests.infra.providers.yandex import fake_cloud

# End to end (the CLI in processes, or a loopback API): out of `make quick`, in `make test`.
pytestmark = pytest.mark.slow

OURS = {"project": "samokoder", "environment": "staging", "component": "secrets", "managed-by": "pulumi"}
NAME = "samokoder-staging-app"
FOLDER = "b1gfolder00000000001"
NEW_VALUES = {**VALUES, "SECRET_KEY": "k" * 64 + "-second"}
TRANSIENT = (
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
)


@dataclass
class Run:
    """One row's world: the fake API, and the resource as Pulumi's state has it."""

    api: FakeLockbox
    monkeypatch: pytest.MonkeyPatch
    secret_id: str = ""
    outs: dict[str, Any] = field(default_factory=dict)


def _inputs(run: Run, **overrides: Any) -> dict[str, Any]:
    checked = LockboxSecretProvider().check(run.outs, inputs(run.api, labels=OURS, **overrides))
    assert not checked.failures
    return dict(checked.inputs)


def do_create(run: Run) -> None:
    created = LockboxSecretProvider().create(_inputs(run))
    run.secret_id, run.outs = created.id, dict(created.outs or {})


def do_update(run: Run) -> None:
    outs = LockboxSecretProvider().update(run.secret_id, run.outs, _inputs(run, payload=NEW_VALUES)).outs
    run.outs = dict(outs or {})


def do_read(run: Run) -> None:
    read = LockboxSecretProvider().read(run.secret_id, run.outs)
    # An empty id: gone from the cloud, so refresh drops it from the state.
    run.secret_id, run.outs = str(read.id or ""), dict(read.outs or {})


def do_delete(run: Run) -> None:
    LockboxSecretProvider().delete(run.secret_id, run.outs)


STEPS: dict[str, Callable[[Run], None]] = {
    "create": do_create,
    "update": do_update,
    "read": do_read,
    "delete": do_delete,
}


def plant(api: FakeLockbox, labels: dict[str, str], payload: dict[str, str]) -> str:
    """A secret of the name made outside this run (an orphan of an earlier one, or someone else's)."""
    with api.state.lock:
        secret_id = api.state.new_id("e6q")
        secret = secret_pb2.Secret(
            id=secret_id, folder_id=FOLDER, name=NAME, labels=labels, kms_key_id=KMS_KEY, description="old"
        )
        version = secret_pb2.Version(id=api.state.new_id("ver"), payload_entry_keys=sorted(payload))
        secret.current_version.CopyFrom(version)
        api.state.secrets[secret_id] = StoredSecret(secret, {version.id: dict(payload)})
    return secret_id


def settle(api: FakeLockbox) -> None:
    """Every operation started has finished (as it does in the cloud, whoever waits for it)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with api.state.lock:
            if all(op.done for op in api.state.operations.values()):
                return
        time.sleep(0.01)
    raise AssertionError("an operation never finished")


def converged(run: Run, step: str) -> None:
    """The cloud holds what the last step asked for, and Pulumi's state says so."""
    named = [s for s in run.api.state.secrets.values() if s.secret.name == NAME]
    if step == "delete":
        assert named == [] or all(dict(s.secret.labels) != OURS for s in named), "the secret is still there"
        return
    assert len(named) == 1, f"{len(named)} secrets named {NAME}"
    stored = named[0]
    assert run.secret_id == stored.secret.id
    payload = stored.versions[stored.secret.current_version.id]
    assert payload == (NEW_VALUES if step == "update" else VALUES)
    assert [b.subject.id for b in stored.bindings] == [READER]
    assert dict(stored.secret.labels) == OURS
    assert run.outs["version_id"] == stored.secret.current_version.id


@dataclass(frozen=True)
class Fault:
    name: str
    step: str
    inject: Callable[[Run], None]
    # None: the step succeeds despite the fault; else a pattern its error matches.
    fails_with: str | None = None
    # After the faults stop, the step runs again (None: the same step).
    rerun: bool = True


def calls(method: str, *codes: grpc.StatusCode) -> Callable[[Run], None]:
    def inject(run: Run) -> None:
        run.api.state.faults[method] = list(codes)

    return inject


def lose(method: str, *, retries: bool = True) -> Callable[[Run], None]:
    def inject(run: Run) -> None:
        run.api.state.lost_answers[method] = 1
        if not retries:
            # The run ends at the lost answer, as a killed `pulumi up` does.
            run.monkeypatch.setattr(yandex_api, "RETRY", yandex_api.RetryPolicy(attempts=1))

    return inject


def slow_operations(run: Run) -> None:
    run.monkeypatch.setattr(client.LockboxApi, "operation_timeout_seconds", 0.05)
    run.monkeypatch.setattr(fake_cloud, "OPERATION_SECONDS", 0.4)


def orphan(run: Run) -> None:
    plant(run.api, OURS, {"OLD_KEY": "stale"})


def orphan_and_flaky_list(run: Run) -> None:
    orphan(run)
    run.api.state.faults["SecretService.List"] = [grpc.StatusCode.UNAVAILABLE]


def foreign(run: Run) -> None:
    plant(run.api, {"managed-by": "terraform", "project": "other"}, {"THEIRS": "keep"})


def gone_already(run: Run) -> None:
    with run.api.state.lock:
        run.api.state.secrets.pop(run.secret_id)


def viewer_missing_and_delete_denied(run: Run) -> None:
    run.api.state.service_accounts.discard(READER)
    run.api.state.faults["SecretService.Delete"] = [grpc.StatusCode.PERMISSION_DENIED]


def read_only(run: Run) -> None:
    run.api.state.read_only_tokens.add("t1.viewer")
    run.monkeypatch.setenv(IAM_TOKEN_ENV, "t1.viewer")


def restore_viewer(run: Run) -> None:
    run.api.state.service_accounts.add(READER)


STEP_CALLS = {
    "create": ("SecretService.Create", "OperationService.Get", "SecretService.SetAccessBindings"),
    "update": ("SecretService.Get", "SecretService.AddVersion"),
    "read": ("SecretService.Get", "SecretService.ListAccessBindings"),
    "delete": ("SecretService.Delete",),
}

FAULTS: tuple[Fault, ...] = (
    Fault(
        "create answer lost, retried with the same idempotency key", "create", lose("SecretService.Create")
    ),
    Fault(
        "create answer lost and the run ends there (orphan left)",
        "create",
        lose("SecretService.Create", retries=False),
        "UNAVAILABLE",
    ),
    Fault("create operation outlives the wait, then succeeds", "create", slow_operations, "did not finish"),
    Fault("ALREADY_EXISTS, labelled as ours: adopted", "create", orphan),
    Fault(
        "ALREADY_EXISTS, labelled as someone else's: left alone",
        "create",
        foreign,
        r"ALREADY_EXISTS.*not as this stack's",
        rerun=False,
    ),
    Fault("ALREADY_EXISTS, and List fails transiently once", "create", orphan_and_flaky_list),
    Fault("NOT_FOUND on delete (deleted outside Pulumi)", "delete", gone_already),
    Fault("NOT_FOUND on read (deleted outside Pulumi): dropped from the state", "read", gone_already),
    Fault("delete answer lost, retried", "delete", lose("SecretService.Delete")),
    Fault("update answer lost, retried", "update", lose("SecretService.AddVersion")),
    *(
        Fault(f"{code.name} twice on {method} ({step})", step, calls(method, code, code))
        for code in TRANSIENT
        for step, methods in STEP_CALLS.items()
        for method in methods
    ),
    Fault(
        "UNAVAILABLE on every attempt of Create",
        "create",
        calls("SecretService.Create", *[grpc.StatusCode.UNAVAILABLE] * 5),
        r"UNAVAILABLE.*gave up after 5 attempts",
    ),
    Fault("PERMISSION_DENIED on Create", "create", read_only, r"PERMISSION_DENIED.*lockbox.editor"),
    Fault(
        "cleanup fails after a failed create: both reported",
        "create",
        viewer_missing_and_delete_denied,
        r"set access bindings failed \(NOT_FOUND.*cleaning up failed too.*PERMISSION_DENIED",
    ),
)

# What the world must be before the step runs.
PREPARED = {"create": False, "update": True, "read": True, "delete": True}
# What the operator fixes before the rerun (beyond the faults stopping).
FIXED_BY_OPERATOR: dict[str, Callable[[Run], None]] = {
    "cleanup fails after a failed create: both reported": restore_viewer,
}


class Unhandled(Exception):
    """What went wrong with a row."""


def _faulted(fault: Fault, run: Run) -> str | None:
    """The step under the fault; its error's message, if it failed as it should."""
    with pytest.MonkeyPatch.context() as during:
        run.monkeypatch = during
        fault.inject(run)
        try:
            STEPS[fault.step](run)
            outcome: str | None = None
        except (LockboxError, AssertionError) as error:
            outcome = str(error)
    if fault.fails_with is None:
        if outcome is not None:
            raise Unhandled(f"failed: {outcome}")
        return None
    if outcome is None:
        raise Unhandled("succeeded, but should have failed")
    if not re.search(fault.fails_with, outcome):
        raise Unhandled(f"wrong message: {outcome}")
    if any(value in outcome for value in (*VALUES.values(), *NEW_VALUES.values())):
        raise Unhandled("the message carries a secret value")
    return outcome


def _theirs_untouched(fault: Fault, run: Run) -> None:
    theirs = [s for s in run.api.state.secrets.values() if s.secret.name == NAME]
    if len(theirs) != 1 or theirs[0].versions[theirs[0].secret.current_version.id] != {"THEIRS": "keep"}:
        raise Unhandled("someone else's secret was touched")
    try:
        STEPS[fault.step](run)
    except LockboxError as error:
        if not re.search(fault.fails_with or "", str(error)):
            raise Unhandled(f"rerun: {error}") from None
        return
    raise Unhandled("the rerun adopted someone else's secret")


def _rerun(fault: Fault, run: Run) -> None:
    """The faults stop; the next run converges."""
    state = run.api.state
    state.faults.clear()
    state.lost_answers.clear()
    state.read_only_tokens.clear()
    settle(run.api)
    if fix := FIXED_BY_OPERATOR.get(fault.name):
        fix(run)
    if not fault.rerun:
        _theirs_untouched(fault, run)
        return
    try:
        if fault.step == "read" and not run.secret_id:
            # Refresh dropped it: the next up creates it again.
            do_create(run)
        else:
            STEPS[fault.step](run)
    except LockboxError as error:
        raise Unhandled(f"the rerun failed: {error}") from None
    try:
        converged(run, fault.step)
    except AssertionError as error:
        raise Unhandled(f"the rerun did not converge: {error}") from None


def _row(fault: Fault, directory: Path) -> str | None:
    """None when the fault is handled and a rerun converges; else what went wrong."""
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        serving_lockbox(directory, {KMS_KEY, OTHER_KMS_KEY}) as api,
    ):
        monkeypatch.setattr(client, "POLL_SECONDS", 0.01)
        monkeypatch.setenv(IAM_TOKEN_ENV, TOKEN)
        api.state.tokens.add(TOKEN)
        api.state.service_accounts.add(READER)
        run = Run(api, monkeypatch)
        if PREPARED[fault.step]:
            do_create(run)
        try:
            _faulted(fault, run)
            _rerun(fault, run)
        except Unhandled as problem:
            return str(problem)
        return None


def test_every_fault_is_handled_and_a_rerun_converges(tmp_path: Path) -> None:
    assert len(FAULTS) >= 17
    results = []
    for index, fault in enumerate(FAULTS):
        directory = tmp_path / str(index)
        directory.mkdir()
        results.append((fault, _row(fault, directory)))
    handled = sum(problem is None for _, problem in results)
    table = "\n".join(
        f"  {'ok  ' if problem is None else 'FAIL'} {fault.step:6} {fault.name}"
        + ("" if problem is None else f": {problem}")
        for fault, problem in results
    )
    print(f"\nLockbox faults handled: {handled}/{len(FAULTS)}\n{table}")
    assert handled == len(FAULTS), table
