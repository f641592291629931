"""The Lockbox provider's fault table, against the loopback API (``tests/infra/providers/fault_table.py``).

Every status at the first call of every method of each step (and of a create
that adopts an earlier run's secret), every retried status on every attempt,
each mutating call's answer lost (retried, or the run ending there), an
operation outliving the wait, lists whose page tokens never end, a secret of
the name that is someone else's. Each row: the outcome, converged on rerun,
harmed (a live secret deleted, someone else's touched), orphaned (a secret
no state records).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from yandex.cloud.lockbox.v1 import secret_pb2

from infra.providers.lockbox import client
from infra.providers.lockbox.provider import LockboxSecretProvider
from infra.providers.yandex import api as yandex_api
from infra.providers.yandex.connection import IAM_TOKEN_ENV
from tests.infra.providers.fault_table import (
    Fault,
    World,
    assert_table,
    exhausted_faults,
    judge,
    status_faults,
)
from tests.infra.providers.lockbox.fake_api import FakeLockbox, LockboxState, StoredSecret, serving_lockbox
from tests.infra.providers.lockbox.test_provider import KMS_KEY, OTHER_KMS_KEY, READER, TOKEN, VALUES, inputs
from tests.infra.providers.yandex import fake_cloud

# End to end (a loopback API): out of `make quick`, in `make test`.
pytestmark = pytest.mark.slow

OURS = {"project": "samokoder", "environment": "staging", "component": "secrets", "managed-by": "pulumi"}
NAME = "samokoder-staging-app"
FOLDER = "b1gfolder00000000001"
NEW_VALUES = {**VALUES, "SECRET_KEY": "k" * 64 + "-second"}
SECRETS = (*VALUES.values(), *NEW_VALUES.values())


@dataclass
class Run(World):
    served: FakeLockbox | None = None

    @property
    def api(self) -> FakeLockbox:
        assert self.served is not None
        return self.served

    def snapshot(self) -> dict[str, str]:
        with self.state.lock:
            return {
                key: repr(
                    (
                        s.secret.name,
                        dict(s.secret.labels),
                        s.versions.get(s.secret.current_version.id),
                        [b.subject.id for b in s.bindings],
                    )
                )
                for key, s in self.api.state.secrets.items()
            }


def _inputs(run: Run, **overrides: Any) -> dict[str, Any]:
    checked = LockboxSecretProvider().check(run.outs, inputs(run.api, labels=OURS, **overrides))
    assert not checked.failures
    return dict(checked.inputs)


def do_create(run: Run) -> None:
    created = LockboxSecretProvider().create(_inputs(run))
    run.resource_id, run.outs = created.id, dict(created.outs or {})


def do_update(run: Run) -> None:
    outs = LockboxSecretProvider().update(run.resource_id, run.outs, _inputs(run, payload=NEW_VALUES)).outs
    run.outs = dict(outs or {})


def do_read(run: Run) -> None:
    read = LockboxSecretProvider().read(run.resource_id, run.outs)
    # An empty id: gone from the cloud, so refresh drops it from the state.
    run.resource_id, run.outs = str(read.id or ""), dict(read.outs or {})


def do_delete(run: Run) -> None:
    LockboxSecretProvider().delete(run.resource_id, run.outs)
    run.resource_id, run.outs = "", {}


STEPS: dict[str, Callable[[Run], None]] = {
    "create": do_create,
    "update": do_update,
    "read": do_read,
    "delete": do_delete,
}


def plant(run: Run, labels: dict[str, str], payload: dict[str, str]) -> str:
    """A secret of the name made outside this run (an earlier run's, its state lost; or someone else's)."""
    state = run.api.state
    with state.lock:
        secret_id = state.new_id("e6q")
        secret = secret_pb2.Secret(
            id=secret_id, folder_id=FOLDER, name=NAME, labels=labels, kms_key_id=KMS_KEY, description="old"
        )
        version = secret_pb2.Version(id=state.new_id("ver"), payload_entry_keys=sorted(payload))
        secret.current_version.CopyFrom(version)
        state.secrets[secret_id] = StoredSecret(secret, {version.id: dict(payload)})
    return secret_id


def settle(state: LockboxState) -> None:
    """Every operation started has finished (as it does in the cloud, whoever waits for it)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with state.lock:
            if all(op.done for op in state.operations.values()):
                return
        time.sleep(0.005)
    raise AssertionError("an operation never finished")


def calm(run: Run) -> None:
    """The faults stop."""
    state = run.api.state
    settle(state)
    state.faults.clear()
    state.lost_answers.clear()
    state.broken_lists.clear()
    state.read_only_tokens.clear()


def converged(run: Run, step: str) -> None:
    """The cloud holds what the last step asked for, and Pulumi's state says so."""
    ours = [
        s for s in run.api.state.secrets.values() if s.secret.name == NAME and s.secret.id not in run.theirs
    ]
    if step == "delete":
        assert ours == [], "the secret is still there"
        return
    assert len(ours) == 1, f"{len(ours)} secrets named {NAME}"
    stored = ours[0]
    assert run.resource_id == stored.secret.id
    assert stored.versions[stored.secret.current_version.id] == (NEW_VALUES if step == "update" else VALUES)
    assert [b.subject.id for b in stored.bindings] == [READER]
    assert dict(stored.secret.labels) == OURS
    assert run.outs["version_id"] == stored.secret.current_version.id


def fail(method: str, *codes: grpc.StatusCode) -> Callable[[Run], None]:
    def inject(run: Run) -> None:
        run.state.faults[method] = list(codes)

    return inject


def lose(method: str, *, retries: bool = True) -> Callable[[Run], None]:
    def inject(run: Run) -> None:
        run.state.lost_answers[method] = 1
        if not retries:
            # The run ends at the lost answer, as a killed `pulumi up` does.
            run.monkeypatch.setattr(yandex_api, "RETRY", yandex_api.RetryPolicy(attempts=1))

    return inject


def slow_operations(run: Run) -> None:
    run.monkeypatch.setattr(client.LockboxApi, "operation_timeout_seconds", 0.05)
    # Far past the wait, even on a loaded machine.
    run.monkeypatch.setattr(fake_cloud, "OPERATION_SECONDS", 1.0)


def orphan(run: Run) -> None:
    run.others.add(plant(run, OURS, {"OLD_KEY": "stale"}))


def foreign(run: Run) -> None:
    run.theirs.add(plant(run, {"managed-by": "terraform", "project": "other"}, {"THEIRS": "keep"}))


def broken_list(kind: str) -> Callable[[Run], None]:
    def inject(run: Run) -> None:
        run.monkeypatch.setattr(yandex_api, "MAX_PAGES", 5)
        run.state.broken_lists["SecretService.List"] = kind

    return inject


def viewer_missing(run: Run) -> None:
    run.api.state.service_accounts.discard(READER)


def viewer_missing_and_delete_denied(run: Run) -> None:
    viewer_missing(run)
    run.state.faults["SecretService.Delete"] = [grpc.StatusCode.PERMISSION_DENIED]


def read_only(run: Run) -> None:
    run.state.read_only_tokens.add("t1.viewer")
    run.monkeypatch.setenv(IAM_TOKEN_ENV, "t1.viewer")


def restore_viewer(run: Run) -> None:
    run.api.state.service_accounts.add(READER)


STEP_METHODS = {
    "create": ("SecretService.Create", "OperationService.Get", "SecretService.SetAccessBindings"),
    "update": ("SecretService.Get", "SecretService.AddVersion", "OperationService.Get"),
    "read": ("SecretService.Get", "SecretService.ListAccessBindings"),
    "delete": ("SecretService.Delete", "OperationService.Get"),
}
ADOPT_METHODS = (
    "SecretService.List",
    "SecretService.Update",
    "SecretService.AddVersion",
    "SecretService.SetAccessBindings",
)


def _lost() -> list[Fault]:
    """Each mutating call's answer lost: retried with its idempotency key, or the run ending there."""
    return [
        Fault(
            f"{method} answer lost{'' if retries else ', the run ends there'}",
            step,
            lose(method, retries=retries),
            None if retries else r"\(UNAVAILABLE",
            prepare=prepare,
        )
        for step, method, prepare in (
            ("create", "SecretService.Create", None),
            ("create", "SecretService.SetAccessBindings", None),
            ("create", "SecretService.Update", orphan),
            ("create", "SecretService.AddVersion", orphan),
            ("update", "SecretService.AddVersion", None),
            ("delete", "SecretService.Delete", None),
        )
        for retries in (True, False)
    ]


def _faults() -> tuple[Fault, ...]:
    statuses = [
        *status_faults("create", STEP_METHODS["create"], fail, adopted_at={"OperationService.Get"}),
        *status_faults("update", STEP_METHODS["update"], fail),
        *status_faults("read", STEP_METHODS["read"], fail, gone_at={"SecretService.Get"}),
        *status_faults(
            "delete",
            STEP_METHODS["delete"],
            fail,
            gone_at={"OperationService.Get"},
            untrue={"SecretService.Delete"},
        ),
    ]
    adopting = [
        Fault(f"adopting: {f.name}", f.step, f.inject, f.fails_with, prepare=orphan)
        for f in status_faults("create", ADOPT_METHODS, fail)
    ]
    return (
        *statuses,
        *adopting,
        *_lost(),
        *exhausted_faults("create", "SecretService.Create", fail, yandex_api.RETRY.attempts),
        Fault(
            "create operation outlives the wait, then succeeds", "create", slow_operations, "did not finish"
        ),
        Fault("ALREADY_EXISTS, labelled as ours: adopted", "create", orphan),
        Fault(
            "ALREADY_EXISTS, labelled as someone else's: left alone",
            "create",
            foreign,
            r"ALREADY_EXISTS.*not as this stack's",
            fixable=False,
        ),
        Fault(
            "adopted, then its access bindings fail: kept",
            "create",
            viewer_missing,
            r"NOT_FOUND.*is kept",
            prepare=orphan,
            repair=restore_viewer,
        ),
        Fault(
            "adopting: List repeats its page token",
            "create",
            broken_list("repeat"),
            "a second time",
            prepare=orphan,
        ),
        Fault(
            "adopting: List never ends", "create", broken_list("endless"), "within 5 pages", prepare=orphan
        ),
        Fault(
            "PERMISSION_DENIED on Create (a read-only token)",
            "create",
            read_only,
            r"PERMISSION_DENIED.*lockbox.editor",
        ),
        Fault(
            "cleanup fails after a failed create: both reported",
            "create",
            viewer_missing_and_delete_denied,
            r"set access bindings failed \(NOT_FOUND.*cleaning up failed too.*PERMISSION_DENIED",
            repair=restore_viewer,
        ),
    )


def _row(fault: Fault, api: FakeLockbox, monkeypatch: pytest.MonkeyPatch) -> Any:
    settle(api.state)
    # A fresh cloud for each row, on the same server (its servicers hold this state object).
    api.state.__dict__.update(LockboxState(kms_keys={KMS_KEY, OTHER_KMS_KEY}).__dict__)
    api.state.tokens.add(TOKEN)
    api.state.service_accounts.add(READER)
    monkeypatch.setenv(IAM_TOKEN_ENV, TOKEN)
    run = Run(api.state, monkeypatch, served=api)
    if fault.step != "create":
        do_create(run)
    if fault.prepare is not None:
        fault.prepare(run)

    def rerun(run: Run) -> None:
        if fault.step == "read" and not run.resource_id:
            # Refresh dropped it: the next up creates it again.
            do_create(run)
            converged(run, "create")
            return
        if fault.step == "delete" and not run.resource_id:
            # Destroyed: gone from the state, nothing left to run.
            converged(run, "delete")
            return
        STEPS[fault.step](run)
        converged(run, fault.step)

    return judge(fault, run, step=STEPS[fault.step], rerun=rerun, calm=calm, secrets=SECRETS)


def test_every_fault_converges_on_rerun_and_harms_nothing(tmp_path: Path) -> None:
    faults = _faults()
    with pytest.MonkeyPatch.context() as monkeypatch, serving_lockbox(tmp_path, {KMS_KEY}) as api:
        monkeypatch.setattr(client.LockboxApi, "poll_seconds", 0.005)
        monkeypatch.setattr(fake_cloud, "OPERATION_SECONDS", 0.01)
        verdicts = [_row(fault, api, monkeypatch) for fault in faults]
    assert len(verdicts) > 200
    assert_table("Lockbox secret", verdicts)
