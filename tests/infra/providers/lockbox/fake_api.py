"""A Lockbox API on loopback, built on the ``yandexcloud`` SDK's own generated gRPC stubs.

It serves what the provider and the SDK call, over TLS as the real API does,
and behaves as the API reference documents:

* ``ApiEndpointService.List`` tells the SDK where every service lives (here);
* ``IamTokenService.Create`` exchanges a service account's signed JWT (PS256,
  checked against the registered public key) for an IAM token;
* every other call needs ``authorization: Bearer <IAM token>``;
* mutating ``SecretService`` calls return a long-running ``Operation`` that
  finishes a moment later, read through ``OperationService.Get``;
* access bindings may name only existing service accounts (else the
  operation fails with ``NOT_FOUND``);
* names are unique per folder (``ALREADY_EXISTS``), a folder holds at most
  ``quota`` secrets (``RESOURCE_EXHAUSTED``), deleting a protected secret is
  ``FAILED_PRECONDITION``, an unknown KMS key fails the operation with
  ``NOT_FOUND``;
* ``AddVersion`` applies its entries to the base version (an entry with no
  value removes that key) and makes the new version current.
"""

from __future__ import annotations

import datetime as dt
import http.server
import itertools
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import grpc
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.protobuf import any_pb2, timestamp_pb2
from google.rpc import status_pb2
from yandex.cloud.access import access_pb2
from yandex.cloud.endpoint import api_endpoint_pb2, api_endpoint_service_pb2, api_endpoint_service_pb2_grpc
from yandex.cloud.iam.v1 import iam_token_service_pb2, iam_token_service_pb2_grpc
from yandex.cloud.lockbox.v1 import secret_pb2, secret_service_pb2, secret_service_pb2_grpc
from yandex.cloud.operation import operation_pb2, operation_service_pb2_grpc

from tests.processes import free_port, send_json, serving_http

# Long enough that every operation is unfinished when its call returns.
OPERATION_SECONDS = 0.05


def _now() -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.GetCurrentTime()
    return stamp


def _pack(message: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


@dataclass
class StoredSecret:
    secret: secret_pb2.Secret
    # version id -> payload
    versions: dict[str, dict[str, str]] = field(default_factory=dict)
    bindings: list[access_pb2.AccessBinding] = field(default_factory=list)


@dataclass
class LockboxState:
    """Everything the fake API holds; tests read it to see what the provider really did."""

    kms_keys: set[str]
    quota: int = 20
    secrets: dict[str, StoredSecret] = field(default_factory=dict)
    operations: dict[str, operation_pb2.Operation] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    # tokens allowed to authenticate but not to change anything
    read_only_tokens: set[str] = field(default_factory=set)
    # service accounts that exist (access bindings may name only these)
    service_accounts: set[str] = field(default_factory=set)
    # service account id -> (key id, PEM public key)
    account_keys: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self.ids):017d}"

    def by_name(self, folder_id: str, name: str) -> StoredSecret | None:
        return next(
            (s for s in self.secrets.values() if s.secret.folder_id == folder_id and s.secret.name == name),
            None,
        )


def _abort(context: grpc.ServicerContext, code: grpc.StatusCode, message: str) -> NoReturn:
    context.abort(code, message)
    raise AssertionError("abort returned")  # it raises; this tells the type checker


class _Authenticated:
    def __init__(self, state: LockboxState) -> None:
        self.state = state

    def _token(self, context: grpc.ServicerContext) -> str:
        metadata = dict(context.invocation_metadata())
        header = str(metadata.get("authorization", ""))
        token = header.removeprefix("Bearer ")
        if not header.startswith("Bearer ") or token not in self.state.tokens | self.state.read_only_tokens:
            _abort(context, grpc.StatusCode.UNAUTHENTICATED, "The token is invalid")
        return token

    def _writer(self, context: grpc.ServicerContext) -> None:
        if self._token(context) in self.state.read_only_tokens:
            _abort(context, grpc.StatusCode.PERMISSION_DENIED, "Permission denied")

    def _operation(
        self,
        description: str,
        metadata: Any,
        finish: Any,
    ) -> operation_pb2.Operation:
        """An unfinished operation; ``finish()`` runs a moment later and returns (response, error)."""
        operation = operation_pb2.Operation(
            id=self.state.new_id("op"),
            description=description,
            created_at=_now(),
            created_by="fake",
            modified_at=_now(),
            done=False,
            metadata=_pack(metadata),
        )
        self.state.operations[operation.id] = operation

        def complete() -> None:
            time.sleep(OPERATION_SECONDS)
            with self.state.lock:
                response, error = finish()
                done = self.state.operations[operation.id]
                done.done = True
                done.modified_at.CopyFrom(_now())
                if error is not None:
                    done.error.CopyFrom(error)
                elif response is not None:
                    done.response.CopyFrom(_pack(response))

        threading.Thread(target=complete, daemon=True).start()
        return operation


class SecretService(_Authenticated, secret_service_pb2_grpc.SecretServiceServicer):
    def _stored(self, secret_id: str, context: grpc.ServicerContext) -> StoredSecret:
        stored = self.state.secrets.get(secret_id)
        if stored is None:
            _abort(context, grpc.StatusCode.NOT_FOUND, f"Secret {secret_id} not found")
        assert stored is not None
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
            created_at=_now(),
            description=description,
            status=secret_pb2.Version.Status.ACTIVE,
            payload_entry_keys=sorted(payload),
        )
        stored.versions[version.id] = payload
        stored.secret.current_version.CopyFrom(version)
        return version

    def Get(self, request: Any, context: grpc.ServicerContext) -> secret_pb2.Secret:
        self._token(context)
        with self.state.lock:
            self.state.calls.append("Get")
            return self._stored(request.secret_id, context).secret

    def Create(self, request: Any, context: grpc.ServicerContext) -> operation_pb2.Operation:
        self._writer(context)
        with self.state.lock:
            self.state.calls.append("Create")
            if self.state.by_name(request.folder_id, request.name):
                _abort(
                    context, grpc.StatusCode.ALREADY_EXISTS, f"Secret with name {request.name} already exists"
                )
            if (
                sum(s.secret.folder_id == request.folder_id for s in self.state.secrets.values())
                >= self.state.quota
            ):
                _abort(
                    context, grpc.StatusCode.RESOURCE_EXHAUSTED, "Quota limit lockbox.secrets.count exceeded"
                )
            secret_id = self.state.new_id("e6q")
            version_id = self.state.new_id("ver")

        def finish() -> tuple[Any, Any]:
            if request.kms_key_id and request.kms_key_id not in self.state.kms_keys:
                return None, status_pb2.Status(
                    code=grpc.StatusCode.NOT_FOUND.value[0], message=f"KMS key {request.kms_key_id} not found"
                )
            secret = secret_pb2.Secret(
                id=secret_id,
                folder_id=request.folder_id,
                created_at=_now(),
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

        return self._operation(
            "Create secret",
            secret_service_pb2.CreateSecretMetadata(secret_id=secret_id, version_id=version_id),
            finish,
        )

    def Update(self, request: Any, context: grpc.ServicerContext) -> operation_pb2.Operation:
        self._writer(context)
        with self.state.lock:
            self.state.calls.append("Update")
            stored = self._stored(request.secret_id, context)
            paths = set(request.update_mask.paths)
            unknown = paths - {"name", "description", "labels", "deletion_protection"}
            if unknown:
                _abort(context, grpc.StatusCode.INVALID_ARGUMENT, f"Cannot update {sorted(unknown)}")
            if "name" in paths:
                other = self.state.by_name(stored.secret.folder_id, request.name)
                if other is not None and other is not stored:
                    _abort(
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

        return self._operation(
            "Update secret", secret_service_pb2.UpdateSecretMetadata(secret_id=request.secret_id), finish
        )

    def Delete(self, request: Any, context: grpc.ServicerContext) -> operation_pb2.Operation:
        self._writer(context)
        with self.state.lock:
            self.state.calls.append("Delete")
            stored = self._stored(request.secret_id, context)
            if stored.secret.deletion_protection:
                _abort(context, grpc.StatusCode.FAILED_PRECONDITION, "Secret is protected from deletion")

        def finish() -> tuple[Any, Any]:
            self.state.secrets.pop(request.secret_id, None)
            return stored.secret, None

        return self._operation(
            "Delete secret", secret_service_pb2.DeleteSecretMetadata(secret_id=request.secret_id), finish
        )

    def AddVersion(self, request: Any, context: grpc.ServicerContext) -> operation_pb2.Operation:
        self._writer(context)
        with self.state.lock:
            self.state.calls.append("AddVersion")
            stored = self._stored(request.secret_id, context)
            base_id = request.base_version_id or stored.secret.current_version.id
            if base_id not in stored.versions:
                _abort(context, grpc.StatusCode.NOT_FOUND, f"Version {base_id} not found")
            version_id = self.state.new_id("ver")

        def finish() -> tuple[Any, Any]:
            version = self._add_version(
                stored, version_id, stored.versions[base_id], request.payload_entries, request.description
            )
            return version, None

        return self._operation(
            "Add version",
            secret_service_pb2.AddVersionMetadata(secret_id=request.secret_id, version_id=version_id),
            finish,
        )

    def ListAccessBindings(
        self, request: Any, context: grpc.ServicerContext
    ) -> access_pb2.ListAccessBindingsResponse:
        self._token(context)
        with self.state.lock:
            stored = self._stored(request.resource_id, context)
            return access_pb2.ListAccessBindingsResponse(access_bindings=stored.bindings)

    def SetAccessBindings(self, request: Any, context: grpc.ServicerContext) -> operation_pb2.Operation:
        self._writer(context)
        with self.state.lock:
            self.state.calls.append("SetAccessBindings")
            stored = self._stored(request.resource_id, context)

        def finish() -> tuple[Any, Any]:
            for binding in request.access_bindings:
                if (
                    binding.subject.type == "serviceAccount"
                    and binding.subject.id not in self.state.service_accounts
                ):
                    return None, status_pb2.Status(
                        code=grpc.StatusCode.NOT_FOUND.value[0],
                        message=f"Service account {binding.subject.id} not found",
                    )
            stored.bindings = list(request.access_bindings)
            return None, None

        return self._operation(
            "Set access bindings",
            access_pb2.SetAccessBindingsMetadata(resource_id=request.resource_id),
            finish,
        )


class OperationService(_Authenticated, operation_service_pb2_grpc.OperationServiceServicer):
    def Get(self, request: Any, context: grpc.ServicerContext) -> operation_pb2.Operation:
        self._token(context)
        with self.state.lock:
            operation = self.state.operations.get(request.operation_id)
            if operation is None:
                return _abort(
                    context, grpc.StatusCode.NOT_FOUND, f"Operation {request.operation_id} not found"
                )
            result = operation_pb2.Operation()
            result.CopyFrom(operation)
            return result


class IamTokenService(iam_token_service_pb2_grpc.IamTokenServiceServicer):
    def __init__(self, state: LockboxState) -> None:
        self.state = state

    def Create(
        self, request: Any, context: grpc.ServicerContext
    ) -> iam_token_service_pb2.CreateIamTokenResponse:
        header = jwt.get_unverified_header(request.jwt)
        claims = jwt.decode(request.jwt, options={"verify_signature": False})
        known = self.state.account_keys.get(str(claims.get("iss")))
        if known is None or known[0] != header.get("kid"):
            _abort(context, grpc.StatusCode.UNAUTHENTICATED, "Unknown service account key")
        assert known is not None
        try:
            jwt.decode(request.jwt, known[1], algorithms=["PS256"], options={"verify_aud": False})
        except jwt.InvalidTokenError as error:
            _abort(context, grpc.StatusCode.UNAUTHENTICATED, f"Invalid JWT: {error}")
        token = f"t1.{self.state.new_id('iam')}"
        self.state.tokens.add(token)
        expires = timestamp_pb2.Timestamp()
        expires.FromDatetime(dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=12))
        return iam_token_service_pb2.CreateIamTokenResponse(iam_token=token, expires_at=expires)


class EndpointService(api_endpoint_service_pb2_grpc.ApiEndpointServiceServicer):
    def __init__(self, address: str) -> None:
        self.address = address

    def List(
        self, request: Any, context: grpc.ServicerContext
    ) -> api_endpoint_service_pb2.ListApiEndpointsResponse:
        return api_endpoint_service_pb2.ListApiEndpointsResponse(
            endpoints=[
                api_endpoint_pb2.ApiEndpoint(id=service, address=self.address)
                for service in ("iam", "lockbox", "lockbox-payload", "operation", "endpoint")
            ]
        )


def _certificate(directory: Path) -> tuple[bytes, bytes, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    import ipaddress  # noqa: PLC0415  (only the certificate needs it)

    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    roots = directory / "lockbox-ca.pem"
    roots.write_bytes(pem)
    return pem, key_pem, roots


@dataclass(frozen=True)
class FakeLockbox:
    endpoint: str
    roots: Path
    state: LockboxState


@contextmanager
def serving_lockbox(directory: Path, kms_keys: set[str]) -> Iterator[FakeLockbox]:
    state = LockboxState(kms_keys=set(kms_keys))
    pem, key_pem, roots = _certificate(directory)
    port = free_port()
    address = f"127.0.0.1:{port}"
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    # RPCs a servicer leaves out answer UNIMPLEMENTED, as the generated base classes do.
    secret_service_pb2_grpc.add_SecretServiceServicer_to_server(
        SecretService(state),  # type: ignore[abstract]
        server,
    )
    operation_service_pb2_grpc.add_OperationServiceServicer_to_server(
        OperationService(state),  # type: ignore[abstract]
        server,
    )
    iam_token_service_pb2_grpc.add_IamTokenServiceServicer_to_server(
        IamTokenService(state),  # type: ignore[abstract]
        server,
    )
    api_endpoint_service_pb2_grpc.add_ApiEndpointServiceServicer_to_server(
        EndpointService(address),  # type: ignore[abstract]
        server,
    )
    server.add_secure_port(f"127.0.0.1:{port}", grpc.ssl_server_credentials([(key_pem, pem)]))
    server.start()
    try:
        yield FakeLockbox(address, roots, state)
    finally:
        server.stop(grace=None)


@contextmanager
def serving_metadata(token: str) -> Iterator[str]:
    """The VM metadata service's token endpoint, as a VM's service account sees it; yields host:port."""

    def token_endpoint(request: http.server.BaseHTTPRequestHandler) -> None:
        wanted = "/computeMetadata/v1/instance/service-accounts/default/token"
        if request.path != wanted or request.headers.get("Metadata-Flavor") != "Google":
            request.send_error(404)
            return
        send_json(request, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"})

    with serving_http(token_endpoint) as address:
        yield address
