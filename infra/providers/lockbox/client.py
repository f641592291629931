"""The Lockbox calls the provider makes, each waiting for its operation, each failure a LockboxError."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
from google.protobuf.field_mask_pb2 import FieldMask
from yandex.cloud.access.access_pb2 import (
    AccessBinding,
    ListAccessBindingsRequest,
    SetAccessBindingsMetadata,
    SetAccessBindingsRequest,
    Subject,
)
from yandex.cloud.lockbox.v1.secret_pb2 import Secret
from yandex.cloud.lockbox.v1.secret_service_pb2 import (
    AddVersionMetadata,
    AddVersionRequest,
    CreateSecretMetadata,
    CreateSecretRequest,
    DeleteSecretMetadata,
    DeleteSecretRequest,
    GetSecretRequest,
    PayloadEntryChange,
    UpdateSecretMetadata,
    UpdateSecretRequest,
)
from yandex.cloud.lockbox.v1.secret_service_pb2_grpc import SecretServiceStub
from yandex.cloud.operation.operation_pb2 import Operation
from yandexcloud import SDK

from infra.providers.lockbox.connection import Connection
from infra.providers.lockbox.errors import LockboxError, code_of, describe

PAYLOAD_VIEWER = "lockbox.payloadViewer"
OPERATION_TIMEOUT_SECONDS = 300
POLL_SECONDS = 0.25
T = TypeVar("T")


class Finished:
    """A finished operation's unpacked response and metadata."""

    response: Any = None
    meta: Any = None


@dataclass(frozen=True)
class SecretState:
    """What the API says a secret is (no payload values: reading them needs another role)."""

    id: str
    name: str
    description: str
    labels: dict[str, str]
    kms_key_id: str
    deletion_protection: bool
    version_id: str
    entry_keys: tuple[str, ...]
    created_at: str


def _state(secret: Secret) -> SecretState:
    return SecretState(
        id=secret.id,
        name=secret.name,
        description=secret.description,
        labels=dict(secret.labels),
        kms_key_id=secret.kms_key_id,
        deletion_protection=secret.deletion_protection,
        version_id=secret.current_version.id,
        entry_keys=tuple(sorted(secret.current_version.payload_entry_keys)),
        created_at=secret.created_at.ToDatetime().isoformat() + "Z",
    )


def entry_changes(payload: Mapping[str, str], removed: Sequence[str] = ()) -> list[PayloadEntryChange]:
    """Entries to set, and keys to drop (an entry with a key and no value removes it from the base)."""
    return [PayloadEntryChange(key=key, text_value=value) for key, value in sorted(payload.items())] + [
        PayloadEntryChange(key=key) for key in sorted(removed)
    ]


class LockboxApi:
    def __init__(self, connection: Connection, secret_name: str) -> None:
        self._sdk: SDK = connection.sdk()
        self._secrets = self._sdk.client(SecretServiceStub)
        self._name = secret_name

    def _call(self, action: str, call: Callable[[], T]) -> T:
        try:
            return call()
        except grpc.RpcError as error:
            raise describe(action, self._name, error.code(), error.details() or "") from None

    def _wait(self, action: str, operation: Operation, response: Any = None, meta: Any = None) -> Finished:
        """Poll the operation until it is done; its error, if any, becomes a LockboxError."""
        waiter = self._sdk.waiter(operation.id)
        deadline = time.monotonic() + OPERATION_TIMEOUT_SECONDS
        while not self._call(action, lambda: waiter.done):
            if time.monotonic() > deadline:
                raise LockboxError(
                    f"Lockbox secret '{self._name}': {action} did not finish in "
                    f"{OPERATION_TIMEOUT_SECONDS} s (operation {operation.id}); "
                    f"check it with `yc operation get {operation.id}`"
                )
            time.sleep(POLL_SECONDS)
        done = waiter.operation
        assert done is not None
        if done.error.code:
            raise describe(action, self._name, code_of(done.error.code), done.error.message)
        result = Finished()
        if meta is not None:
            result.meta = meta()
            done.metadata.Unpack(result.meta)
        if response is not None:
            result.response = response()
            done.response.Unpack(result.response)
        return result

    def create(
        self,
        *,
        folder_id: str,
        description: str,
        labels: Mapping[str, str],
        kms_key_id: str,
        payload: Mapping[str, str],
    ) -> SecretState:
        request = CreateSecretRequest(
            folder_id=folder_id,
            name=self._name,
            description=description,
            labels=dict(labels),
            kms_key_id=kms_key_id,
            version_description="created by Pulumi",
            version_payload_entries=entry_changes(payload),
            deletion_protection=False,
        )
        operation = self._call("create", lambda: self._secrets.Create(request))
        result = self._wait("create", operation, Secret, CreateSecretMetadata)
        return _state(result.response)

    def get(self, secret_id: str) -> SecretState:
        secret = self._call("read", lambda: self._secrets.Get(GetSecretRequest(secret_id=secret_id)))
        return _state(secret)

    def update(self, secret_id: str, **fields: Any) -> SecretState:
        """Update name, description, labels or deletion_protection (the fields given)."""
        request = UpdateSecretRequest(
            secret_id=secret_id, update_mask=FieldMask(paths=sorted(fields)), **fields
        )
        operation = self._call("update", lambda: self._secrets.Update(request))
        return _state(self._wait("update", operation, Secret, UpdateSecretMetadata).response)

    def add_version(
        self,
        secret_id: str,
        base_version_id: str,
        description: str,
        changed: Mapping[str, str],
        removed: Sequence[str] = (),
    ) -> str:
        """A version from the base with ``changed`` set and ``removed`` dropped; it becomes current."""
        changes = entry_changes(changed, removed)
        request = AddVersionRequest(
            secret_id=secret_id,
            description=description,
            payload_entries=changes,
            base_version_id=base_version_id,
        )
        operation = self._call("add a version", lambda: self._secrets.AddVersion(request))
        result = self._wait("add a version", operation, meta=AddVersionMetadata)
        return str(result.meta.version_id)

    def payload_viewers(self, secret_id: str) -> list[str]:
        response = self._call(
            "read access bindings",
            lambda: self._secrets.ListAccessBindings(ListAccessBindingsRequest(resource_id=secret_id)),
        )
        return sorted(b.subject.id for b in response.access_bindings if b.role_id == PAYLOAD_VIEWER)

    def set_payload_viewers(self, secret_id: str, service_accounts: Sequence[str]) -> None:
        """Exactly these service accounts may read the payload; no other binding is kept."""
        request = SetAccessBindingsRequest(
            resource_id=secret_id,
            access_bindings=[
                AccessBinding(role_id=PAYLOAD_VIEWER, subject=Subject(id=account, type="serviceAccount"))
                for account in sorted(service_accounts)
            ],
        )
        operation = self._call("set access bindings", lambda: self._secrets.SetAccessBindings(request))
        self._wait("set access bindings", operation, meta=SetAccessBindingsMetadata)

    def delete(self, secret_id: str) -> None:
        operation = self._call(
            "delete", lambda: self._secrets.Delete(DeleteSecretRequest(secret_id=secret_id))
        )
        self._wait("delete", operation, Secret, DeleteSecretMetadata)
