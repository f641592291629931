"""A Lockbox API on loopback, on the shared fake cloud (``tests/infra/providers/yandex/fake_cloud.py``).

It serves what the provider and the SDK call, over TLS as the real API does,
and behaves as the API reference documents:

* the shared services: endpoints, IAM tokens, operations, idempotency keys,
  faults on demand (``state.faults``, ``state.lost_answers``);
* mutating ``SecretService`` calls return a long-running ``Operation`` that
  finishes a moment later;
* access bindings may name only existing service accounts (else the
  operation fails with ``NOT_FOUND``);
* names are unique per folder (``ALREADY_EXISTS``, also while a create is
  still running), a folder holds at most ``quota`` secrets
  (``RESOURCE_EXHAUSTED``), deleting a protected secret is
  ``FAILED_PRECONDITION``, an unknown KMS key fails the operation with
  ``NOT_FOUND``;
* ``List`` and ``ListAccessBindings`` page (``page_size``, ``page_token``);
* ``AddVersion`` applies its entries to the base version (an entry with no
  value removes that key) and makes the new version current.

``state.calls`` names calls without the service for ``SecretService``
(``"Create"``), with it for the rest (``"OperationService.Get"``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from yandex.cloud.access import access_pb2
from yandex.cloud.lockbox.v1 import secret_pb2, secret_service_pb2, secret_service_pb2_grpc

from tests.infra.providers.yandex.fake_cloud import (
    CloudState,
    Served,
    Service,
    Servicer,
    abort,
    failure,
    now,
    page,
    serving_cloud,
    serving_metadata,
)

__all__ = ["FakeLockbox", "LockboxState", "StoredSecret", "serving_lockbox", "serving_metadata"]


@dataclass
class StoredSecret:
    secret: secret_pb2.Secret
    # version id -> payload
    versions: dict[str, dict[str, str]] = field(default_factory=dict)
    bindings: list[access_pb2.AccessBinding] = field(default_factory=list)


@dataclass
class LockboxState(CloudState):
    """Everything the fake API holds; tests read it to see what the provider really did."""

    kms_keys: set[str] = field(default_factory=set)
    quota: int = 20
    secrets: dict[str, StoredSecret] = field(default_factory=dict)
    # (folder, name) of creates still running: the name is taken already
    creating: set[tuple[str, str]] = field(default_factory=set)
    # service accounts that exist (access bindings may name only these)
    service_accounts: set[str] = field(default_factory=set)

    def by_name(self, folder_id: str, name: str) -> StoredSecret | None:
        return next(
            (s for s in self.secrets.values() if s.secret.folder_id == folder_id and s.secret.name == name),
            None,
        )


class SecretService(Servicer, secret_service_pb2_grpc.SecretServiceServicer):
    service = "SecretService"
    state: LockboxState

    def enter(self, method: str, context: grpc.ServicerContext, *, writer: bool = False) -> None:
        super().enter(method, context, writer=writer)
        with self.state.lock:
            # The short name as well, for the tests that count them.
            self.state.calls.append(method)

    def _stored(self, secret_id: str, context: grpc.ServicerContext) -> StoredSecret:
        stored = self.state.secrets.get(secret_id)
        if stored is None:
            abort(context, grpc.StatusCode.NOT_FOUND, f"Secret {secret_id} not found")
        return stored

    def _add_version(
        self, stored: StoredSecret, version_id: str, base: dict[str, str], changes: Any, description: str
    ) -> secret_pb2.Version:
        payload = dict(base)
        for change in changes:
            if change.WhichOneof("value") is None:
                payload.pop(change.key, None)
            else:
                payload[change.key] = change.text_value or change.binary_value.decode()
        version = secret_pb2.Version(
            id=version_id,
            secret_id=stored.secret.id,
            created_at=now(),
            description=description,
            status=secret_pb2.Version.Status.ACTIVE,
            payload_entry_keys=sorted(payload),
        )
        stored.versions[version.id] = payload
        stored.secret.current_version.CopyFrom(version)
        return version

    def Get(self, request: Any, context: grpc.ServicerContext) -> secret_pb2.Secret:
        self.enter("Get", context)
        with self.state.lock:
            result = secret_pb2.Secret()
            result.CopyFrom(self._stored(request.secret_id, context).secret)
            return result

    def List(self, request: Any, context: grpc.ServicerContext) -> secret_service_pb2.ListSecretsResponse:
        self.enter("List", context)
        with self.state.lock:
            found = sorted(
                (s.secret for s in self.state.secrets.values() if s.secret.folder_id == request.folder_id),
                key=lambda secret: secret.id,
            )
        secrets, token = page(self.state, "SecretService.List", found, request.page_size, request.page_token)
        return secret_service_pb2.ListSecretsResponse(secrets=secrets, next_page_token=token)

    def Create(self, request: Any, context: grpc.ServicerContext) -> Any:
        def start() -> Any:
            key = (request.folder_id, request.name)
            if self.state.by_name(*key) or key in self.state.creating:
                abort(
                    context, grpc.StatusCode.ALREADY_EXISTS, f"Secret with name {request.name} already exists"
                )
            if (
                sum(s.secret.folder_id == request.folder_id for s in self.state.secrets.values())
                >= self.state.quota
            ):
                abort(
                    context, grpc.StatusCode.RESOURCE_EXHAUSTED, "Quota limit lockbox.secrets.count exceeded"
                )
            secret_id = self.state.new_id("e6q")
            version_id = self.state.new_id("ver")
            self.state.creating.add(key)

            def finish() -> tuple[Any, Any]:
                self.state.creating.discard(key)
                if request.kms_key_id and request.kms_key_id not in self.state.kms_keys:
                    return None, failure(grpc.StatusCode.NOT_FOUND, f"KMS key {request.kms_key_id} not found")
                secret = secret_pb2.Secret(
                    id=secret_id,
                    folder_id=request.folder_id,
                    created_at=now(),
                    name=request.name,
                    description=request.description,
                    labels=dict(request.labels),
                    kms_key_id=request.kms_key_id,
                    status=secret_pb2.Secret.Status.ACTIVE,
                    deletion_protection=request.deletion_protection,
                )
                stored = StoredSecret(secret)
                self.state.secrets[secret_id] = stored
                self._add_version(
                    stored, version_id, {}, request.version_payload_entries, request.version_description
                )
                return stored.secret, None

            return self.operation(
                "Create secret",
                secret_service_pb2.CreateSecretMetadata(secret_id=secret_id, version_id=version_id),
                finish,
            )

        return self.mutate("Create", context, start)

    def Update(self, request: Any, context: grpc.ServicerContext) -> Any:
        def start() -> Any:
            stored = self._stored(request.secret_id, context)
            paths = set(request.update_mask.paths)
            unknown = paths - {"name", "description", "labels", "deletion_protection"}
            if unknown:
                abort(context, grpc.StatusCode.INVALID_ARGUMENT, f"Cannot update {sorted(unknown)}")
            if "name" in paths:
                other = self.state.by_name(stored.secret.folder_id, request.name)
                if other is not None and other is not stored:
                    abort(
                        context,
                        grpc.StatusCode.ALREADY_EXISTS,
                        f"Secret with name {request.name} already exists",
                    )

            def finish() -> tuple[Any, Any]:
                secret = stored.secret
                if "name" in paths:
                    secret.name = request.name
                if "description" in paths:
                    secret.description = request.description
                if "labels" in paths:
                    secret.labels.clear()
                    secret.labels.update(dict(request.labels))
                if "deletion_protection" in paths:
                    secret.deletion_protection = request.deletion_protection
                return secret, None

            return self.operation(
                "Update secret", secret_service_pb2.UpdateSecretMetadata(secret_id=request.secret_id), finish
            )

        return self.mutate("Update", context, start)

    def Delete(self, request: Any, context: grpc.ServicerContext) -> Any:
        def start() -> Any:
            stored = self._stored(request.secret_id, context)
            if stored.secret.deletion_protection:
                abort(context, grpc.StatusCode.FAILED_PRECONDITION, "Secret is protected from deletion")

            def finish() -> tuple[Any, Any]:
                self.state.secrets.pop(request.secret_id, None)
                return stored.secret, None

            return self.operation(
                "Delete secret", secret_service_pb2.DeleteSecretMetadata(secret_id=request.secret_id), finish
            )

        return self.mutate("Delete", context, start)

    def AddVersion(self, request: Any, context: grpc.ServicerContext) -> Any:
        def start() -> Any:
            stored = self._stored(request.secret_id, context)
            base_id = request.base_version_id or stored.secret.current_version.id
            if base_id not in stored.versions:
                abort(context, grpc.StatusCode.NOT_FOUND, f"Version {base_id} not found")
            version_id = self.state.new_id("ver")

            def finish() -> tuple[Any, Any]:
                version = self._add_version(
                    stored, version_id, stored.versions[base_id], request.payload_entries, request.description
                )
                return version, None

            return self.operation(
                "Add version",
                secret_service_pb2.AddVersionMetadata(secret_id=request.secret_id, version_id=version_id),
                finish,
            )

        return self.mutate("AddVersion", context, start)

    def ListAccessBindings(
        self, request: Any, context: grpc.ServicerContext
    ) -> access_pb2.ListAccessBindingsResponse:
        self.enter("ListAccessBindings", context)
        with self.state.lock:
            stored = self._stored(request.resource_id, context)
            bindings, token = page(
                self.state,
                "SecretService.ListAccessBindings",
                stored.bindings,
                request.page_size,
                request.page_token,
            )
            return access_pb2.ListAccessBindingsResponse(access_bindings=bindings, next_page_token=token)

    def SetAccessBindings(self, request: Any, context: grpc.ServicerContext) -> Any:
        def start() -> Any:
            stored = self._stored(request.resource_id, context)

            def finish() -> tuple[Any, Any]:
                for binding in request.access_bindings:
                    if (
                        binding.subject.type == "serviceAccount"
                        and binding.subject.id not in self.state.service_accounts
                    ):
                        return None, failure(
                            grpc.StatusCode.NOT_FOUND, f"Service account {binding.subject.id} not found"
                        )
                stored.bindings = list(request.access_bindings)
                return None, None

            return self.operation(
                "Set access bindings",
                access_pb2.SetAccessBindingsMetadata(resource_id=request.resource_id),
                finish,
            )

        return self.mutate("SetAccessBindings", context, start)


FakeLockbox = Served[LockboxState]


@contextmanager
def serving_lockbox(directory: Path, kms_keys: set[str]) -> Iterator[FakeLockbox]:
    state = LockboxState(kms_keys=set(kms_keys))

    servicers: list[Service] = [
        (secret_service_pb2_grpc.add_SecretServiceServicer_to_server, SecretService(state)),  # type: ignore[abstract]
    ]
    with serving_cloud(directory, state, ["lockbox", "lockbox-payload"], servicers) as served:
        yield served
