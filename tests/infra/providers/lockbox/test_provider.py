"""The Lockbox provider against a Lockbox API on loopback (the SDK's own stubs, TLS, operations)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.providers.lockbox import client
from infra.providers.lockbox.provider import LockboxSecretProvider
from infra.providers.yandex import api
from infra.providers.yandex.connection import IAM_TOKEN_ENV, ConnectionError_
from infra.providers.yandex.errors import YandexApiError
from tests.infra.providers.lockbox.fake_api import FakeLockbox, serving_lockbox, serving_metadata
from tests.infra.providers.yandex.fake_cloud import authorized_key_file

KMS_KEY = "abjkmskey000000000001"
OTHER_KMS_KEY = "abjkmskey000000000002"
READER = "ajereader00000000001"
OTHER_READERS = ("ajereader00000000002", "ajereader00000000003")
TOKEN = "t1.operator-token"
VALUES = {"SECRET_KEY": "k" * 64 + "-first", "APP_SECRET_KEY": "a" * 64 + "-first"}


@pytest.fixture
def lockbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLockbox]:
    # The provider polls operations as it does against the real API, only more often.
    monkeypatch.setattr(client.LockboxApi, "poll_seconds", 0.01)
    with serving_lockbox(tmp_path, {KMS_KEY, OTHER_KMS_KEY}) as api:
        api.state.tokens.add(TOKEN)
        api.state.service_accounts.add(READER)
        monkeypatch.setenv(IAM_TOKEN_ENV, TOKEN)
        yield api


def inputs(api: FakeLockbox, **overrides: Any) -> dict[str, Any]:
    return {
        "connection": api.connection().as_inputs(),
        "folder_id": "b1gfolder00000000001",
        "name": "samokoder-staging-app",
        "description": "the app's keys",
        "labels": {"environment": "staging"},
        "kms_key_id": KMS_KEY,
        "payload": dict(VALUES),
        "payload_viewers": [READER],
        "deletion_protection": False,
        **overrides,
    }


def create(api: FakeLockbox, **overrides: Any) -> tuple[str, dict[str, Any]]:
    provider = LockboxSecretProvider()
    checked = provider.check({}, inputs(api, **overrides))
    assert not checked.failures
    created = provider.create(checked.inputs)
    assert created.outs is not None
    return created.id, created.outs


def update(id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
    outs = LockboxSecretProvider().update(id_, olds, news).outs
    assert outs is not None
    return outs


def stored_payload(api: FakeLockbox, secret_id: str) -> dict[str, str]:
    stored = api.state.secrets[secret_id]
    return stored.versions[stored.secret.current_version.id]


def test_create_waits_for_the_operation_and_stores_everything(lockbox: FakeLockbox) -> None:
    secret_id, outs = create(lockbox, deletion_protection=True)
    stored = lockbox.state.secrets[secret_id]
    assert stored.secret.name == "samokoder-staging-app"
    assert stored.secret.kms_key_id == KMS_KEY
    assert dict(stored.secret.labels) == {"environment": "staging"}
    assert stored.secret.deletion_protection is True
    assert stored_payload(lockbox, secret_id) == VALUES
    assert [(b.role_id, b.subject.id, b.subject.type) for b in stored.bindings] == [
        ("lockbox.payloadViewer", READER, "serviceAccount")
    ]
    # The outputs come from the finished operation, not from the request.
    assert outs["secret_id"] == secret_id
    assert outs["version_id"] == stored.secret.current_version.id
    assert outs["entry_keys"] == sorted(VALUES)
    assert outs["created_at"].endswith("Z")


def test_a_payload_change_adds_a_current_version_and_keeps_the_secret(lockbox: FakeLockbox) -> None:
    provider = LockboxSecretProvider()
    secret_id, olds = create(lockbox)
    first_version = olds["version_id"]
    new_payload = {"SECRET_KEY": "k" * 64 + "-second", "APP_SECRET_KEY": VALUES["APP_SECRET_KEY"]}
    news = provider.check(olds, inputs(lockbox, payload=new_payload)).inputs

    diff = provider.diff(secret_id, olds, news)
    assert diff.changes is True
    assert diff.replaces == []
    # Nothing derived from a value is kept beside it: the payload itself tells the change.
    assert not {"salt", "fingerprints"} & set(news)

    outs = update(secret_id, olds, news)
    stored = lockbox.state.secrets[secret_id]
    assert outs["version_id"] != first_version
    assert stored.secret.current_version.id == outs["version_id"]
    assert stored_payload(lockbox, secret_id) == new_payload
    assert stored.versions[first_version] == VALUES, "the previous version stays for rollback"
    assert stored.secret.current_version.description == "Pulumi: changed SECRET_KEY"
    assert lockbox.state.calls.count("Create") == 1


def test_a_removed_entry_is_gone_from_the_new_version(lockbox: FakeLockbox) -> None:
    provider = LockboxSecretProvider()
    secret_id, olds = create(lockbox)
    news = provider.check(olds, inputs(lockbox, payload={"SECRET_KEY": VALUES["SECRET_KEY"]})).inputs
    outs = update(secret_id, olds, news)
    assert stored_payload(lockbox, secret_id) == {"SECRET_KEY": VALUES["SECRET_KEY"]}
    assert outs["entry_keys"] == ["SECRET_KEY"]


def test_a_new_kms_key_replaces_the_secret_and_a_new_name_does_not(lockbox: FakeLockbox) -> None:
    provider = LockboxSecretProvider()
    secret_id, olds = create(lockbox)
    by_key = provider.diff(
        secret_id, olds, provider.check(olds, inputs(lockbox, kms_key_id=OTHER_KMS_KEY)).inputs
    )
    assert by_key.replaces == ["kms_key_id"]
    assert by_key.delete_before_replace is True  # same name: the old one must go first

    renamed = provider.check(olds, inputs(lockbox, name="samokoder-staging-app-2")).inputs
    by_name = provider.diff(secret_id, olds, renamed)
    assert (by_name.changes, by_name.replaces) == (True, [])
    update(secret_id, olds, renamed)
    assert lockbox.state.secrets[secret_id].secret.name == "samokoder-staging-app-2"
    assert lockbox.state.calls.count("AddVersion") == 0


def test_no_change_is_no_change(lockbox: FakeLockbox) -> None:
    provider = LockboxSecretProvider()
    secret_id, olds = create(lockbox)
    diff = provider.diff(secret_id, olds, provider.check(olds, inputs(lockbox)).inputs)
    assert (diff.changes, diff.replaces) == (False, [])


def test_read_refreshes_from_the_api_and_sees_a_deleted_secret(lockbox: FakeLockbox) -> None:
    provider = LockboxSecretProvider()
    secret_id, outs = create(lockbox)
    lockbox.state.secrets[secret_id].secret.description = "edited in the console"
    lockbox.state.secrets[secret_id].bindings.clear()
    read = provider.read(secret_id, outs)
    assert read.id == secret_id
    assert read.outs is not None
    assert read.outs["description"] == "edited in the console"
    assert read.outs["payload_viewers"] == []
    del lockbox.state.secrets[secret_id]
    assert provider.read(secret_id, outs).id == ""


def test_delete_respects_deletion_protection(lockbox: FakeLockbox) -> None:
    provider = LockboxSecretProvider()
    secret_id, olds = create(lockbox, deletion_protection=True)
    with pytest.raises(YandexApiError) as refused:
        provider.delete(secret_id, olds)
    message = str(refused.value)
    assert "'samokoder-staging-app'" in message
    assert "FAILED_PRECONDITION" in message
    assert "set deletion_protection to false" in message
    assert secret_id in lockbox.state.secrets

    unprotected = provider.check(olds, inputs(lockbox, deletion_protection=False)).inputs
    outs = update(secret_id, olds, unprotected)
    provider.delete(secret_id, outs)
    assert secret_id not in lockbox.state.secrets


def test_an_existing_name_is_reported_with_the_fix(lockbox: FakeLockbox) -> None:
    create(lockbox)
    with pytest.raises(
        YandexApiError, match=r"'samokoder-staging-app': create failed \(ALREADY_EXISTS.*pulumi import"
    ):
        create(lockbox)


def test_an_unknown_kms_key_fails_the_operation_and_leaves_nothing(lockbox: FakeLockbox) -> None:
    with pytest.raises(YandexApiError, match=r"create failed \(NOT_FOUND: KMS key abjmissing"):
        create(lockbox, kms_key_id="abjmissing0000000000")
    assert lockbox.state.secrets == {}


def test_a_failure_after_create_deletes_the_new_secret(lockbox: FakeLockbox) -> None:
    with pytest.raises(YandexApiError, match=r"set access bindings failed \(NOT_FOUND.*deleted again"):
        create(lockbox, payload_viewers=["ajenosuchaccount0001"], deletion_protection=True)
    assert lockbox.state.secrets == {}


def test_any_failure_after_create_deletes_the_new_secret(
    lockbox: FakeLockbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> None:
        raise ConnectionResetError("the connection was reset")

    monkeypatch.setattr(client.LockboxApi, "set_payload_viewers", broken)
    with pytest.raises(
        YandexApiError, match=r"^the connection was reset \(the secret created .* deleted again"
    ):
        create(lockbox)
    assert lockbox.state.secrets == {}


def test_quota_permission_and_credentials_errors_say_what_to_do(
    lockbox: FakeLockbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    lockbox.state.quota = 0
    with pytest.raises(YandexApiError, match=r"RESOURCE_EXHAUSTED.*quota"):
        create(lockbox)
    lockbox.state.quota = 20

    lockbox.state.read_only_tokens.add("t1.viewer")
    monkeypatch.setenv(IAM_TOKEN_ENV, "t1.viewer")
    with pytest.raises(YandexApiError, match=r"PERMISSION_DENIED.*lockbox.editor"):
        create(lockbox)

    monkeypatch.setenv(IAM_TOKEN_ENV, "t1.expired")
    with pytest.raises(YandexApiError, match=r"UNAUTHENTICATED.*YC_IAM_TOKEN"):
        create(lockbox)

    monkeypatch.delenv(IAM_TOKEN_ENV)
    with pytest.raises(ConnectionError_, match="reads YC_IAM_TOKEN, which is not set"):
        create(lockbox)


def test_no_error_message_carries_a_secret_value(lockbox: FakeLockbox) -> None:
    messages = []
    create(lockbox)
    for overrides in (
        {},
        {"kms_key_id": "abjmissing0000000000"},
        {"payload_viewers": ["ajenosuchaccount0001"]},
    ):
        with pytest.raises(YandexApiError) as caught:
            create(lockbox, **overrides)
        messages.append(str(caught.value))
    assert len(messages) == 3
    for message in messages:
        assert not any(value in message for value in VALUES.values()), message


def test_a_service_account_key_file_authenticates(lockbox: FakeLockbox, tmp_path: Path) -> None:
    key_file = authorized_key_file(tmp_path, lockbox.state)
    by_key = lockbox.connection(auth="service_account_key_file", key_file=str(key_file)).as_inputs()
    secret_id, _ = create(lockbox, connection=by_key)
    assert secret_id in lockbox.state.secrets


def test_bad_connection_settings_fail_the_check_with_the_setting_named(lockbox: FakeLockbox) -> None:
    provider = LockboxSecretProvider()
    checked = provider.check({}, inputs(lockbox, connection={"auth": "service_account_key_file"}, payload={}))
    reasons = {failure.property: failure.reason for failure in checked.failures}
    assert "key_file is required" in reasons["connection"]
    assert "at least one entry" in reasons["payload"]


def test_a_vms_metadata_service_authenticates(lockbox: FakeLockbox, monkeypatch: pytest.MonkeyPatch) -> None:
    lockbox.state.tokens.add("t1.vm-account")
    monkeypatch.delenv(IAM_TOKEN_ENV)
    with serving_metadata("t1.vm-account") as address:
        monkeypatch.setenv("YC_METADATA_ADDR", address)
        secret_id, _ = create(lockbox, connection=lockbox.connection(auth="metadata").as_inputs())
    assert secret_id in lockbox.state.secrets


def test_every_page_of_the_access_bindings_is_read(
    lockbox: FakeLockbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    lockbox.state.service_accounts.update(OTHER_READERS)
    readers = sorted([READER, *OTHER_READERS])
    id_, outs = create(lockbox, payload_viewers=readers)
    monkeypatch.setattr(api, "PAGE_SIZE", 1)
    read = LockboxSecretProvider().read(id_, outs)
    assert read.outs is not None
    assert read.outs["payload_viewers"] == readers
    assert lockbox.state.count("SecretService.ListAccessBindings") >= len(readers)
