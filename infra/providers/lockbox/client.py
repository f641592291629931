"""The Lockbox calls the provider makes, on the shared base: retried, each waiting for its operation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import grpc
from google.protobuf.field_mask_pb2 import FieldMask
from yandex.cloud.access.access_pb2 import (
    AccessBinding,
    ListAccessBindingsRequest,
    SetAccessBindingsRequest,
    Subject,
)
from yandex.cloud.lockbox.v1.secret_pb2 import Secret
from yandex.cloud.lockbox.v1.secret_service_pb2 import (
    AddVersionMetadata,
    AddVersionRequest,
    CreateSecretRequest,
    DeleteSecretRequest,
    GetSecretRequest,
    ListSecretsRequest,
    PayloadEntryChange,
    UpdateSecretRequest,
)
from yandex.cloud.lockbox.v1.secret_service_pb2_grpc import SecretServiceStub

from infra.providers.yandex import api, errors
from infra.providers.yandex.api import YandexApi
from infra.providers.yandex.connection import Connection

PAYLOAD_VIEWER = "lockbox.payloadViewer"

SECRET = errors.Subject(
    "Lockbox secret",
    {
        grpc.StatusCode.PERMISSION_DENIED: "the account lacks a Lockbox role on the folder or secret "
        "(lockbox.editor to manage secrets, kms.keys.encrypterDecrypter on the KMS key)",
        grpc.StatusCode.RESOURCE_EXHAUSTED: "a Lockbox quota is used up (secrets or versions per folder): "
        "delete unused secrets or ask for a higher quota",
    },
)


def entry_changes(payload: Mapping[str, str], removed: Sequence[str] = ()) -> list[PayloadEntryChange]:
    """Entries to set, and keys to drop (an entry with a key and no value removes it from the base)."""
    return [PayloadEntryChange(key=key, text_value=value) for key, value in sorted(payload.items())] + [
        PayloadEntryChange(key=key) for key in sorted(removed)
    ]


class LockboxApi(YandexApi):
    subject = SECRET
    poll_seconds = 0.25

    def __init__(self, connection: Connection, secret_name: str) -> None:
        super().__init__(connection, secret_name)
        self._secrets = self.sdk.client(SecretServiceStub)

    def create(self, props: Mapping[str, Any]) -> Secret:
        request = CreateSecretRequest(
            folder_id=props["folder_id"],
            name=self.name,
            description=props.get("description", ""),
            labels=dict(props.get("labels") or {}),
            kms_key_id=props["kms_key_id"],
            version_description="created by Pulumi",
            version_payload_entries=entry_changes(props["payload"]),
            deletion_protection=False,
        )
        return self.unpack("create", self.run("create", self._secrets.Create, request).response, Secret)

    def find(self, folder_id: str) -> Secret | None:
        found: Secret | None = self.find_in(self._secrets.List, ListSecretsRequest, folder_id, "secrets")
        return found

    def get(self, secret_id: str) -> Secret:
        return self.call("read", self._secrets.Get, GetSecretRequest(secret_id=secret_id))

    def update(self, secret_id: str, fields: Mapping[str, Any]) -> Secret:
        """Update name, description, labels or deletion_protection (the fields given)."""
        mask = FieldMask(paths=sorted(fields))
        request = UpdateSecretRequest(secret_id=secret_id, update_mask=mask, **fields)
        return self.unpack("update", self.run("update", self._secrets.Update, request).response, Secret)

    def add_version(
        self, secret: Secret, description: str, changed: Mapping[str, str], removed: Sequence[str] = ()
    ) -> str:
        """A version from the current one with ``changed`` set and ``removed`` dropped; it becomes current."""
        request = AddVersionRequest(
            secret_id=secret.id,
            description=description,
            payload_entries=entry_changes(changed, removed),
            base_version_id=secret.current_version.id,
        )
        operation = self.run("add a version", self._secrets.AddVersion, request)
        return self.unpack("add a version", operation.metadata, AddVersionMetadata).version_id

    def payload_viewers(self, secret_id: str) -> list[str]:
        pages = self.pages(
            "read access bindings",
            self._secrets.ListAccessBindings,
            lambda token: ListAccessBindingsRequest(
                resource_id=secret_id, page_size=api.PAGE_SIZE, page_token=token
            ),
        )
        return sorted(
            b.subject.id for page in pages for b in page.access_bindings if b.role_id == PAYLOAD_VIEWER
        )

    def set_payload_viewers(self, secret_id: str, service_accounts: Sequence[str]) -> None:
        """Exactly these service accounts may read the payload; no other binding is kept."""
        request = SetAccessBindingsRequest(
            resource_id=secret_id,
            access_bindings=[
                AccessBinding(role_id=PAYLOAD_VIEWER, subject=Subject(id=account, type="serviceAccount"))
                for account in sorted(service_accounts)
            ],
        )
        self.run("set access bindings", self._secrets.SetAccessBindings, request)

    def delete(self, secret_id: str) -> None:
        self.run("delete", self._secrets.Delete, DeleteSecretRequest(secret_id=secret_id))
