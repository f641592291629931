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

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from pulumi.dynamic import ResourceProvider
from yandex.cloud.lockbox.v1 import secret_pb2

from infra.providers.lockbox import client
from infra.providers.lockbox.provider import LockboxSecretProvider
from infra.providers.yandex.connection import IAM_TOKEN_ENV
from tests.infra.providers.fault_rows import adopting, fail, lost_faults, orphan, shared_faults
from tests.infra.providers.fault_table import Fault, World, assert_table, run_row, settle, status_faults
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

    def provider(self) -> ResourceProvider:
        return LockboxSecretProvider()

    def inputs(self, *, updated: bool = False) -> dict[str, Any]:
        news = inputs(self.api, labels=OURS, payload=NEW_VALUES if updated else VALUES)
        checked = LockboxSecretProvider().check(self.outs, news)
        assert not checked.failures
        return dict(checked.inputs)

    def plant(self, *, ours: bool) -> str:
        labels = OURS if ours else {"managed-by": "terraform", "project": "other"}
        payload = {"OLD_KEY": "stale"} if ours else {"THEIRS": "keep"}
        state = self.api.state
        with state.lock:
            secret_id = state.new_id("e6q")
            secret = secret_pb2.Secret(
                id=secret_id,
                folder_id=FOLDER,
                name=NAME,
                labels=labels,
                kms_key_id=KMS_KEY,
                description="old",
            )
            version = secret_pb2.Version(id=state.new_id("ver"), payload_entry_keys=sorted(payload))
            secret.current_version.CopyFrom(version)
            state.secrets[secret_id] = StoredSecret(secret, {version.id: dict(payload)})
        return secret_id

    def converged(self, step: str) -> None:
        ours = [
            s
            for s in self.api.state.secrets.values()
            if s.secret.name == NAME and s.secret.id not in self.theirs
        ]
        if step == "delete":
            assert ours == [], "the secret is still there"
            return
        assert len(ours) == 1, f"{len(ours)} secrets named {NAME}"
        stored = ours[0]
        assert self.resource_id == stored.secret.id
        assert stored.versions[stored.secret.current_version.id] == (
            NEW_VALUES if step == "update" else VALUES
        )
        assert [b.subject.id for b in stored.bindings] == [READER]
        assert dict(stored.secret.labels) == OURS
        assert self.outs["version_id"] == stored.secret.current_version.id


def viewer_missing(run: Run) -> None:
    run.api.state.service_accounts.discard(READER)


def viewer_missing_and_delete_denied(run: Run) -> None:
    viewer_missing(run)
    run.state.faults["SecretService.Delete"] = [grpc.StatusCode.PERMISSION_DENIED]


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


def _faults() -> tuple[Fault, ...]:
    return (
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
        *adopting(ADOPT_METHODS),
        *lost_faults(
            [
                ("create", "SecretService.Create", None),
                ("create", "SecretService.SetAccessBindings", None),
                ("create", "SecretService.Update", orphan),
                ("create", "SecretService.AddVersion", orphan),
                ("update", "SecretService.AddVersion", None),
                ("delete", "SecretService.Delete", None),
            ]
        ),
        *shared_faults("SecretService.Create", "SecretService.List", r"PERMISSION_DENIED.*lockbox.editor"),
        Fault(
            "adopted, then its access bindings fail: kept",
            "create",
            viewer_missing,
            r"NOT_FOUND.*is kept",
            prepare=orphan,
            repair=restore_viewer,
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
    return run_row(fault, Run(api.state, monkeypatch, served=api), SECRETS)


def test_every_fault_converges_on_rerun_and_harms_nothing(tmp_path: Path) -> None:
    faults = _faults()
    with pytest.MonkeyPatch.context() as monkeypatch, serving_lockbox(tmp_path, {KMS_KEY}) as api:
        monkeypatch.setattr(client.LockboxApi, "poll_seconds", 0.005)
        monkeypatch.setattr(fake_cloud, "OPERATION_SECONDS", 0.01)
        verdicts = [_row(fault, api, monkeypatch) for fault in faults]
    assert len(verdicts) > 200
    assert_table("Lockbox secret", verdicts)
