"""The Lockbox calls the provider makes, on the shared base: retried, each waiting for its
operation, each failure a LockboxError."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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
    ListSecretsRequest,
    PayloadEntryChange,
    UpdateSecretMetadata,
    UpdateSecretRequest,
)
from yandex.cloud.lockbox.v1.secret_service_pb2_grpc import SecretServiceStub

from infra.providers.lockbox.errors import SECRET, LockboxError
from infra.providers.yandex.api import YandexApi
from infra.providers.yandex.connection import Connection
from infra.providers.yandex.converge import gone

PAYLOAD_VIEWER = "lockbox.payloadViewer"
# Read at each poll: tests poll more often.
POLL_SECONDS = 0.25


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


class LockboxApi(YandexApi):
    subject = SECRET

    def __init__(self, connection: Connection, secret_name: str) -> None:
        super().__init__(connection, secret_name)
        self._secrets = self.client(SecretServiceStub)

    def poll_seconds(self) -> float:
        return POLL_SECONDS

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
        return _state(
            self.run("create", self._secrets.Create, request, Secret, CreateSecretMetadata).response
        )

    def find(self, folder_id: str) -> SecretState | None:
        """The folder's secret of this name, if there is one (every page of the folder's list)."""
        pages = self.pages(
            "find by name",
            self._secrets.List,
            lambda token: ListSecretsRequest(folder_id=folder_id, page_size=100, page_token=token),
        )
        for page in pages:
            for secret in page.secrets:
                if secret.name == self._name:
                    return _state(secret)
        return None

    def get(self, secret_id: str) -> SecretState:
        return _state(self.call("read", self._secrets.Get, GetSecretRequest(secret_id=secret_id)))

    def update(self, secret_id: str, **fields: Any) -> SecretState:
        """Update name, description, labels or deletion_protection (the fields given)."""
        request = UpdateSecretRequest(
            secret_id=secret_id, update_mask=FieldMask(paths=sorted(fields)), **fields
        )
        return _state(
            self.run("update", self._secrets.Update, request, Secret, UpdateSecretMetadata).response
        )

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
        result = self.run("add a version", self._secrets.AddVersion, request, meta=AddVersionMetadata)
        return str(result.meta.version_id)

    def payload_viewers(self, secret_id: str) -> list[str]:
        response = self.call(
            "read access bindings",
            self._secrets.ListAccessBindings,
            ListAccessBindingsRequest(resource_id=secret_id),
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
        self.run(
            "set access bindings", self._secrets.SetAccessBindings, request, meta=SetAccessBindingsMetadata
        )

    def delete(self, secret_id: str) -> None:
        """Delete the secret; one already gone (``NOT_FOUND``) counts as deleted."""
        try:
            self._delete(secret_id)
        except LockboxError as error:
            if not gone(error):
                raise

    def _delete(self, secret_id: str) -> None:
        self.run(
            "delete",
            self._secrets.Delete,
            DeleteSecretRequest(secret_id=secret_id),
            Secret,
            DeleteSecretMetadata,
        )
