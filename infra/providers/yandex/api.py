"""Calls to the Yandex Cloud API through the SDK: bounded retries, operations waited for, errors described.

* a call that fails with a transient status (``UNAVAILABLE``,
  ``DEADLINE_EXCEEDED``, ``RESOURCE_EXHAUSTED``) is tried again after an
  exponential, jittered, capped delay, at most ``RETRY.attempts`` times in all;
  any other status fails at once;
* a mutating call carries an ``idempotency-key`` that stays the same across its
  retries, so a retry after a lost answer does not do the work twice (the API
  answers it with the first attempt's operation);
* each call has a deadline, so a hung connection becomes ``DEADLINE_EXCEEDED``;
* a long-running operation is polled through ``OperationService.Get`` (with the
  same retries) until it is done or ``OPERATION_TIMEOUT_SECONDS`` pass; its
  error becomes the resource's error;
* every failure is one ``YandexApiError`` (or the resource's subclass) whose
  message names the resource, the action, the status and the fix.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import grpc
from yandex.cloud.operation.operation_pb2 import Operation
from yandex.cloud.operation.operation_service_pb2 import GetOperationRequest
from yandex.cloud.operation.operation_service_pb2_grpc import OperationServiceStub
from yandexcloud import SDK

from infra.providers.yandex.connection import Connection
from infra.providers.yandex.errors import TRANSIENT, Subject, code_of

T = TypeVar("T")
C = TypeVar("C")

OPERATION_TIMEOUT_SECONDS = 300
POLL_SECONDS = 0.25
CALL_TIMEOUT_SECONDS = 30
IDEMPOTENCY_KEY = "idempotency-key"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a transient failure is retried."""

    # Tries in all, the first included.
    attempts: int = 5
    first_delay: float = 0.5
    max_delay: float = 8.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.first_delay < 0 or self.max_delay < self.first_delay:
            raise ValueError(f"an unusable retry policy: {self}")

    def ceiling(self, retry: int) -> float:
        """The longest wait before retry number `retry` (1 is the first retry): doubling, capped."""
        return float(min(self.max_delay, self.first_delay * 2 ** (retry - 1)))

    def delay(self, retry: int) -> float:
        """The wait before retry number `retry`: in the upper half of its ceiling, at random."""
        ceiling = self.ceiling(retry)
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # spreads retries; not a secret

    def longest_wait(self) -> float:
        return sum(self.ceiling(retry) for retry in range(1, self.attempts))


DEFAULT_RETRY = RetryPolicy()
# Read at call time: tests shorten the waits.
RETRY = DEFAULT_RETRY


class Finished:
    """A finished operation's unpacked response and metadata."""

    response: Any = None
    meta: Any = None


class YandexApi:
    """The calls one resource makes; a subclass names its ``subject`` and adds its requests."""

    subject: ClassVar[Subject] = Subject("Yandex Cloud resource")
    # How long an operation may run before the provider gives up waiting (it goes on in the cloud).
    operation_timeout_seconds: ClassVar[float] = OPERATION_TIMEOUT_SECONDS

    def __init__(self, connection: Connection, name: str) -> None:
        self._sdk: SDK = connection.sdk()
        self._name = name
        self._operations = self._sdk.client(OperationServiceStub)

    @property
    def name(self) -> str:
        return self._name

    def client(self, stub: Callable[[Any], C]) -> C:
        return self._sdk.client(stub)

    def poll_seconds(self) -> float:
        """How long to wait between two looks at an unfinished operation."""
        return POLL_SECONDS

    def call(self, action: str, method: Callable[..., T], request: Any, *, mutating: bool = False) -> T:
        """``method(request)``, retried while it fails transiently; any failure a described error."""
        metadata = ((IDEMPOTENCY_KEY, str(uuid.uuid4())),) if mutating else ()
        policy = RETRY
        attempt = 1
        while True:
            try:
                return method(request, timeout=CALL_TIMEOUT_SECONDS, metadata=metadata)
            except grpc.RpcError as error:
                code = error.code()
                if code not in TRANSIENT or attempt >= policy.attempts:
                    raise self.subject.describe(
                        self._name, action, code, error.details() or "", attempt
                    ) from None
            time.sleep(policy.delay(attempt))
            attempt += 1

    def wait(self, action: str, operation: Operation, response: Any = None, meta: Any = None) -> Finished:
        """Poll the operation until it is done; its error, if any, becomes the resource's error."""
        deadline = time.monotonic() + self.operation_timeout_seconds
        current = operation
        while not current.done:
            if time.monotonic() > deadline:
                raise self.subject.error(
                    f"{self.subject.kind} '{self._name}': {action} did not finish in "
                    f"{self.operation_timeout_seconds:g} s (operation {operation.id}); "
                    f"check it with `yc operation get {operation.id}`"
                )
            time.sleep(self.poll_seconds())
            current = self.call(action, self._operations.Get, GetOperationRequest(operation_id=operation.id))
        if current.error.code:
            raise self.subject.describe(
                self._name, action, code_of(current.error.code), current.error.message
            )
        result = Finished()
        if meta is not None:
            result.meta = meta()
            current.metadata.Unpack(result.meta)
        if response is not None:
            result.response = response()
            current.response.Unpack(result.response)
        return result

    def run(
        self,
        action: str,
        method: Callable[..., Operation],
        request: Any,
        response: Any = None,
        meta: Any = None,
    ) -> Finished:
        """A mutating call and the operation it starts, waited for."""
        operation = self.call(action, method, request, mutating=True)
        return self.wait(action, operation, response, meta)
