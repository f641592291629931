"""An adopted secret's readers are ours before our values go in.

Labels are anyone's to write who may create a secret in the folder, so a secret
adopted by its labels may come with someone else's `lockbox.payloadViewer`.
SetAccessBindings replaces every binding; it runs before the payload's version
is added, and when it fails no value of ours is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from yandex.cloud.access import access_pb2
from yandex.cloud.lockbox.v1 import secret_pb2

from infra.providers.lockbox import client
from infra.providers.lockbox.provider import LockboxSecretProvider
from infra.providers.yandex.connection import IAM_TOKEN_ENV
from infra.providers.yandex.errors import YandexApiError
from tests.infra.providers.lockbox.fake_api import FakeLockbox, StoredSecret, serving_lockbox

KMS_KEY = "abjkmskey000000000001"
READER = "ajereader00000000001"
STRANGER = "ajestranger000000001"
TOKEN = "t1.operator-token"
FOLDER = "b1gfolder00000000001"
NAME = "samokoder-staging-app"
LABELS = {"environment": "staging", "managed-by": "pulumi"}
VALUES = {"SECRET_KEY": "k" * 64}


@pytest.fixture
def lockbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLockbox]:
    monkeypatch.setattr(client.LockboxApi, "poll_seconds", 0.01)
    with serving_lockbox(tmp_path, {KMS_KEY}) as api:
        api.state.tokens.add(TOKEN)
        api.state.service_accounts.update({READER, STRANGER})
        monkeypatch.setenv(IAM_TOKEN_ENV, TOKEN)
        yield api


def planted(api: FakeLockbox) -> str:
    """A secret of our name and labels that a stranger made, readable by the stranger."""
    state = api.state
    with state.lock:
        secret_id = state.new_id("e6q")
        secret = secret_pb2.Secret(
            id=secret_id, folder_id=FOLDER, name=NAME, labels=LABELS, kms_key_id=KMS_KEY
        )
        version = secret_pb2.Version(id=state.new_id("ver"), payload_entry_keys=["BAIT"])
        secret.current_version.CopyFrom(version)
        binding = access_pb2.AccessBinding(
            role_id="lockbox.payloadViewer", subject=access_pb2.Subject(id=STRANGER, type="serviceAccount")
        )
        state.secrets[secret_id] = StoredSecret(secret, {version.id: {"BAIT": "x"}}, [binding])
    return secret_id


def create(api: FakeLockbox) -> None:
    provider = LockboxSecretProvider()
    inputs = {
        "connection": api.connection().as_inputs(),
        "folder_id": FOLDER,
        "name": NAME,
        "description": "",
        "labels": LABELS,
        "kms_key_id": KMS_KEY,
        "payload": dict(VALUES),
        "payload_viewers": [READER],
        "deletion_protection": False,
    }
    checked = provider.check({}, inputs)
    provider.create(checked.inputs)


def readers(api: FakeLockbox, secret_id: str) -> list[str]:
    return [b.subject.id for b in api.state.secrets[secret_id].bindings]


def test_the_strangers_reader_goes_before_the_payload_comes_and_ours_after(lockbox: FakeLockbox) -> None:
    """Ours come after our version: before it, they would read (and sync) the maker's payload."""
    secret_id = planted(lockbox)
    create(lockbox)
    calls = [c for c in lockbox.state.calls if c in {"SetAccessBindings", "AddVersion"}]
    assert calls == ["SetAccessBindings", "AddVersion", "SetAccessBindings"]
    assert readers(lockbox, secret_id) == [READER]


def test_a_failed_version_leaves_no_reader_on_the_makers_payload(lockbox: FakeLockbox) -> None:
    secret_id = planted(lockbox)
    lockbox.state.faults["SecretService.AddVersion"] = [grpc.StatusCode.PERMISSION_DENIED]
    with pytest.raises(YandexApiError, match="is kept"):
        create(lockbox)
    assert readers(lockbox, secret_id) == []


def test_our_value_goes_in_with_no_reader_when_ours_cannot_be_set(lockbox: FakeLockbox) -> None:
    secret_id = planted(lockbox)
    lockbox.state.service_accounts.discard(READER)  # our reader's SetAccessBindings fails: NOT_FOUND
    with pytest.raises(YandexApiError, match="is kept"):
        create(lockbox)
    # The stranger's reader went first; ours never came: no one reads the new version.
    assert readers(lockbox, secret_id) == []
    assert list(lockbox.state.secrets[secret_id].versions.values())[-1] == dict(VALUES)
