"""What every fake Yandex Cloud API on loopback shares, built on the ``yandexcloud`` SDK's own stubs.

A service's fake (``tests/infra/providers/egress/fake_api.py``) adds its own
servicer on top of these, and behaves as the API reference documents:

* ``ApiEndpointService.List`` tells the SDK where every service lives (here);
* ``IamTokenService.Create`` exchanges a service account's signed JWT (PS256,
  checked against the registered public key) for an IAM token;
* every other call needs ``authorization: Bearer <IAM token>``, and a
  read-only token may not change anything (``PERMISSION_DENIED``);
* a mutating call returns a long-running ``Operation`` that finishes a moment
  later, read through ``OperationService.Get``; a second call with the same
  ``idempotency-key`` returns the first call's operation and does nothing;
* faults on demand: a method's next calls fail with given status codes
  (``faults``), or do their work and lose the answer (``lost_answers``), as an
  overloaded or flaky API does; a list answers a page token it gave before,
  or a new one forever (``broken_lists``), as a buggy API could.
"""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, NoReturn, TypeVar

import grpc
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.protobuf import any_pb2, timestamp_pb2
from google.rpc import status_pb2
from yandex.cloud.endpoint import api_endpoint_pb2, api_endpoint_service_pb2, api_endpoint_service_pb2_grpc
from yandex.cloud.iam.v1 import iam_token_service_pb2, iam_token_service_pb2_grpc
from yandex.cloud.operation import operation_pb2, operation_service_pb2_grpc

from infra.providers.yandex.connection import Connection
from tests.processes import free_port, send_json, serving_http

# Long enough that every operation is unfinished when its call returns.
OPERATION_SECONDS = 0.05
IDEMPOTENCY_KEY = "idempotency-key"
T = TypeVar("T")


def now() -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.GetCurrentTime()
    return stamp


def pack(message: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def failure(code: grpc.StatusCode, message: str) -> status_pb2.Status:
    """An operation's error."""
    return status_pb2.Status(code=code.value[0], message=message)


def abort(context: grpc.ServicerContext, code: grpc.StatusCode, message: str) -> NoReturn:
    context.abort(code, message)
    raise AssertionError("abort returned")  # it raises; this tells the type checker


@dataclass
class CloudState:
    """What the fake cloud holds besides a service's own resources; tests read it."""

    tokens: set[str] = field(default_factory=set)
    # tokens allowed to authenticate but not to change anything
    read_only_tokens: set[str] = field(default_factory=set)
    # service account id -> (key id, PEM public key)
    account_keys: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    operations: dict[str, operation_pb2.Operation] = field(default_factory=dict)
    # "Service.Method" of every call, in order (faulted ones too)
    calls: list[str] = field(default_factory=list)
    # "Service.Method" -> the status codes its next calls fail with, one per call
    faults: dict[str, list[grpc.StatusCode]] = field(default_factory=dict)
    # "Service.Method" -> how many of its next calls do their work and then lose the answer
    lost_answers: dict[str, int] = field(default_factory=dict)
    # "Service.List" -> "repeat" (the same next page token again and again) or "endless" (a new one each time)
    broken_lists: dict[str, str] = field(default_factory=dict)
    # idempotency key -> the operation the first call with it started
    idempotent: dict[str, str] = field(default_factory=dict)
    # the idempotency key of each mutating call (None: none sent)
    keys: list[tuple[str, str | None]] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self.ids):017d}"

    def count(self, method: str) -> int:
        return self.calls.count(method)


def page(state: CloudState, method: str, found: Sequence[T], size: int, token: str) -> tuple[list[T], str]:
    """One page of `found` after `token`, and the next token; broken as ``state.broken_lists`` says."""
    broken = state.broken_lists.get(method)
    if broken == "repeat":
        return [], "page-2"
    if broken == "endless":
        return [], f"page-{int(token.removeprefix('page-') or 1) + 1}"
    start = int(token or 0)
    end = start + (size or 100)
    return list(found[start:end]), (str(end) if end < len(found) else "")


Finish = Callable[[], tuple[Any, status_pb2.Status | None]]


class Servicer:
    """A service's servicer: authentication, faults, operations and idempotency keys."""

    service = "Service"

    def __init__(self, state: CloudState) -> None:
        self.state = state

    def enter(self, method: str, context: grpc.ServicerContext, *, writer: bool = False) -> None:
        """Record the call, fail it if a fault is due, and check its token."""
        name = f"{self.service}.{method}"
        with self.state.lock:
            self.state.calls.append(name)
            due = self.state.faults.get(name)
            code = due.pop(0) if due else None
        if code is not None:
            abort(context, code, f"injected {code.name}")
        metadata = dict(context.invocation_metadata())
        header = str(metadata.get("authorization", ""))
        token = header.removeprefix("Bearer ")
        if not header.startswith("Bearer ") or token not in self.state.tokens | self.state.read_only_tokens:
            abort(context, grpc.StatusCode.UNAUTHENTICATED, "The token is invalid")
        if writer and token in self.state.read_only_tokens:
            abort(context, grpc.StatusCode.PERMISSION_DENIED, "Permission denied")

    def mutate(
        self, method: str, context: grpc.ServicerContext, start: Callable[[], operation_pb2.Operation]
    ) -> operation_pb2.Operation:
        """A mutating call: `start()` once per idempotency key; the answer lost if a loss is due."""
        self.enter(method, context, writer=True)
        name = f"{self.service}.{method}"
        key = dict(context.invocation_metadata()).get(IDEMPOTENCY_KEY)
        with self.state.lock:
            self.state.keys.append((name, None if key is None else str(key)))
            if key is not None and str(key) in self.state.idempotent:
                return self.copy(self.state.operations[self.state.idempotent[str(key)]])
            operation = start()
            if key is not None:
                self.state.idempotent[str(key)] = operation.id
            lose = self.state.lost_answers.get(name, 0)
            if lose:
                self.state.lost_answers[name] = lose - 1
        if lose:
            abort(context, grpc.StatusCode.UNAVAILABLE, "injected: the answer was lost")
        return operation

    def operation(self, description: str, metadata: Any, finish: Finish) -> operation_pb2.Operation:
        """An unfinished operation; ``finish()`` runs a moment later and returns (response, error)."""
        operation = operation_pb2.Operation(
            id=self.state.new_id("op"),
            description=description,
            created_at=now(),
            created_by="fake",
            modified_at=now(),
            done=False,
            metadata=pack(metadata),
        )
        self.state.operations[operation.id] = operation

        def complete() -> None:
            time.sleep(OPERATION_SECONDS)
            with self.state.lock:
                response, error = finish()
                done = self.state.operations[operation.id]
                done.done = True
                done.modified_at.CopyFrom(now())
                if error is not None:
                    done.error.CopyFrom(error)
                elif response is not None:
                    done.response.CopyFrom(pack(response))

        threading.Thread(target=complete, daemon=True).start()
        return self.copy(operation)

    @staticmethod
    def copy(operation: operation_pb2.Operation) -> operation_pb2.Operation:
        result = operation_pb2.Operation()
        result.CopyFrom(operation)
        return result


class OperationService(Servicer, operation_service_pb2_grpc.OperationServiceServicer):
    service = "OperationService"

    def Get(self, request: Any, context: grpc.ServicerContext) -> operation_pb2.Operation:
        self.enter("Get", context)
        with self.state.lock:
            operation = self.state.operations.get(request.operation_id)
            if operation is None:
                abort(context, grpc.StatusCode.NOT_FOUND, f"Operation {request.operation_id} not found")
            return self.copy(operation)


class IamTokenService(iam_token_service_pb2_grpc.IamTokenServiceServicer):
    def __init__(self, state: CloudState) -> None:
        self.state = state

    def Create(
        self, request: Any, context: grpc.ServicerContext
    ) -> iam_token_service_pb2.CreateIamTokenResponse:
        header = jwt.get_unverified_header(request.jwt)
        claims = jwt.decode(request.jwt, options={"verify_signature": False})
        known = self.state.account_keys.get(str(claims.get("iss")))
        if known is None or known[0] != header.get("kid"):
            abort(context, grpc.StatusCode.UNAUTHENTICATED, "Unknown service account key")
        try:
            jwt.decode(request.jwt, known[1], algorithms=["PS256"], options={"verify_aud": False})
        except jwt.InvalidTokenError as error:
            abort(context, grpc.StatusCode.UNAUTHENTICATED, f"Invalid JWT: {error}")
        token = f"t1.{self.state.new_id('iam')}"
        self.state.tokens.add(token)
        expires = timestamp_pb2.Timestamp()
        expires.FromDatetime(dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=12))
        return iam_token_service_pb2.CreateIamTokenResponse(iam_token=token, expires_at=expires)


class EndpointService(api_endpoint_service_pb2_grpc.ApiEndpointServiceServicer):
    def __init__(self, address: str, services: Sequence[str]) -> None:
        self.address = address
        self.services = services

    def List(
        self, request: Any, context: grpc.ServicerContext
    ) -> api_endpoint_service_pb2.ListApiEndpointsResponse:
        return api_endpoint_service_pb2.ListApiEndpointsResponse(
            endpoints=[
                api_endpoint_pb2.ApiEndpoint(id=service, address=self.address)
                for service in ("iam", "operation", "endpoint", *self.services)
            ]
        )


def certificate(directory: Path) -> tuple[bytes, bytes, Path]:
    """A self-signed certificate for localhost: (PEM, key PEM, the PEM's file for the client)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    moment = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(moment - dt.timedelta(minutes=5))
        .not_valid_after(moment + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    roots = directory / "fake-cloud-ca.pem"
    roots.write_bytes(pem)
    return pem, key_pem, roots


State = TypeVar("State", bound=CloudState)


@dataclass(frozen=True)
class Served(Generic[State]):
    """A fake cloud on loopback: where to reach it, the CA its certificate is signed by, its state."""

    endpoint: str
    roots: Path
    state: State

    def connection(self, **overrides: Any) -> Connection:
        """How a provider reaches this cloud: an IAM token (from the environment), this CA."""
        options = {"auth": "iam_token", "endpoint": self.endpoint, "root_certificates_file": str(self.roots)}
        return Connection(**{**options, **overrides})


# The generated function that adds a service's servicer to a server, and the servicer.
Service = tuple[Callable[[Any, Any], None], Any]


@contextmanager
def serving_cloud(
    directory: Path, state: State, services: Sequence[str], servicers: Sequence[Service] = ()
) -> Iterator[Served[State]]:
    """A TLS gRPC server with the shared services and the service's own ``servicers``."""
    pem, key_pem, roots = certificate(directory)
    port = free_port()
    address = f"127.0.0.1:{port}"
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    # RPCs a servicer leaves out answer UNIMPLEMENTED, as the generated base classes do.
    operation_service_pb2_grpc.add_OperationServiceServicer_to_server(
        OperationService(state),  # type: ignore[abstract]
        server,
    )
    iam_token_service_pb2_grpc.add_IamTokenServiceServicer_to_server(
        IamTokenService(state),  # type: ignore[abstract]
        server,
    )
    api_endpoint_service_pb2_grpc.add_ApiEndpointServiceServicer_to_server(
        EndpointService(address, services),  # type: ignore[abstract]
        server,
    )
    for add, servicer in servicers:
        add(servicer, server)
    server.add_secure_port(address, grpc.ssl_server_credentials([(key_pem, pem)]))
    server.start()
    try:
        yield Served(address, roots, state)
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


# The service account and key an authorized key file names (a key the fake cloud accepts).
ACCOUNT, KEY_ID = "ajeci0000000000000001", "ajekey00000000000001"


def authorized_key_file(directory: Path, state: CloudState) -> Path:
    """An authorized key file as `yc iam key create` writes it, its public key known to the cloud."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    state.account_keys[ACCOUNT] = (KEY_ID, public)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path = directory / "key.json"
    path.write_text(
        json.dumps(
            {
                "id": KEY_ID,
                "service_account_id": ACCOUNT,
                "created_at": "2026-11-26T00:00:00Z",
                "key_algorithm": "RSA_2048",
                "public_key": public.decode(),
                "private_key": private,
            }
        )
    )
    return path
