"""Calls to the Yandex Cloud API through the SDK: bounded retries, operations waited for, errors described.

* a call that fails with a status worth another try (``errors.TRANSIENT``:
  ``UNAVAILABLE``, ``DEADLINE_EXCEEDED``, ``INTERNAL``, ``UNKNOWN``,
  ``ABORTED``) is tried again after an exponential, jittered, capped delay, at
  most ``RETRY.attempts`` times in all and not past ``RETRY.total_seconds``;
  the final error lists the statuses met and the time spent. Any other status
  fails at once; ``RESOURCE_EXHAUSTED`` does on a mutating call (a used-up quota)
  and is retried on a read, a list or an operation's poll, which use up no
  quota, so there it can only be the API's request-rate limit;
* a list is read page by page, at most ``MAX_PAGES`` pages, and an answer that
  repeats a page token it gave before ends it with an error instead of a loop;
* a mutating call carries an ``idempotency-key`` that stays the same across its
  retries, so a retry after a lost answer does not do the work twice (the API
  answers it with the first attempt's operation);
* each call has a deadline, so a hung connection becomes ``DEADLINE_EXCEEDED``;
* a long-running operation is polled through ``OperationService.Get`` (with the
  same retries) until it is done or ``operation_timeout_seconds`` pass; its
  error becomes the resource's error;
* every failure is one ``YandexApiError`` whose message names the resource,
  the action, the status and the fix.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import grpc
from google.protobuf.message import Message
from yandex.cloud.operation.operation_pb2 import Operation
from yandex.cloud.operation.operation_service_pb2 import GetOperationRequest
from yandex.cloud.operation.operation_service_pb2_grpc import OperationServiceStub
from yandexcloud import SDK

from infra.providers.yandex.connection import Connection
from infra.providers.yandex.errors import TRANSIENT, Subject, YandexApiError, code_of

T = TypeVar("T")
M = TypeVar("M", bound=Message)

CALL_TIMEOUT_SECONDS = 30
IDEMPOTENCY_KEY = "idempotency-key"
PAGE_SIZE = 100
# Far more than any folder of this program holds at PAGE_SIZE a page; read at call time (tests lower it).
MAX_PAGES = 100


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a transient failure is retried."""

    # Tries in all, the first included: the waits add up to about 45 s, so an API blip of
    # half a minute does not fail a `pulumi up` (the SDK's own waiter rides out ~3.4 minutes).
    attempts: int = 8
    first_delay: float = 0.5
    max_delay: float = 16.0
    # No retry starts later than this after the first attempt (the calls' own time counted).
    total_seconds: float = 60.0

    def ceiling(self, retry: int) -> float:
        """The longest wait before retry number `retry` (1 is the first retry): doubling, capped."""
        return float(min(self.max_delay, self.first_delay * 2 ** (retry - 1)))

    def delay(self, retry: int) -> float:
        """The wait before retry number `retry`: in the upper half of its ceiling, at random."""
        ceiling = self.ceiling(retry)
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # spreads retries; not a secret


DEFAULT_RETRY = RetryPolicy()
# Read at call time: tests shorten the waits.
RETRY = DEFAULT_RETRY


class YandexApi:
    """The calls one resource makes; a subclass names its ``subject`` and adds its requests."""

    subject: ClassVar[Subject] = Subject("Yandex Cloud resource")
    # How long an operation may run before the provider gives up waiting (it goes on in the cloud).
    operation_timeout_seconds: ClassVar[float] = 300
    # Between two looks at an unfinished operation: the SDK's own waiter looks once a second
    # (yandexcloud 0.413.0 _operation_waiter.py:48).
    poll_seconds: ClassVar[float] = 1.0

    def __init__(self, connection: Connection, name: str) -> None:
        self.sdk: SDK = connection.sdk()
        self.name = name
        self._operations = self.sdk.client(OperationServiceStub)

    def call(self, action: str, method: Callable[..., T], request: Any, *, mutating: bool = False) -> T:
        """``method(request)``, retried while it fails transiently; any failure a described error."""
        metadata = ((IDEMPOTENCY_KEY, str(uuid.uuid4())),) if mutating else ()
        policy = RETRY
        started = time.monotonic()
        met: list[str] = []
        while True:
            try:
                return method(request, timeout=CALL_TIMEOUT_SECONDS, metadata=metadata)
            except grpc.RpcError as error:
                code = error.code()
                met.append(code.name)
                wait = policy.delay(len(met))
                spent = time.monotonic() - started
                rate_limited = code == grpc.StatusCode.RESOURCE_EXHAUSTED and not mutating
                if (
                    (code not in TRANSIENT and not rate_limited)
                    or len(met) >= policy.attempts
                    or spent + wait > policy.total_seconds
                ):
                    tried = f" (gave up after {len(met)} attempts in {spent:.1f} s: {', '.join(met)})"
                    detail = error.details() or ""
                    raise self.subject.describe(
                        self.name, action, code, detail, tried if len(met) > 1 else ""
                    ) from None
            time.sleep(wait)

    def pages(self, action: str, method: Callable[..., Any], request: Callable[[str], Any]) -> Iterator[Any]:
        """Every page of a list: `request(page_token)` for each; bounded, so a broken list ends."""
        seen: set[str] = set()
        token = ""
        for _ in range(MAX_PAGES):
            response = self.call(action, method, request(token))
            yield response
            token = str(response.next_page_token)
            if not token:
                return
            if token in seen:
                raise YandexApiError(
                    f"{self.subject.kind} '{self.name}': {action} failed: the API gave page token "
                    f"{token[:40]!r} a second time ({len(seen) + 1} pages read), so the list would never "
                    "end; nothing was changed: run again later, and report it if it repeats"
                )
            seen.add(token)
        raise YandexApiError(
            f"{self.subject.kind} '{self.name}': {action} failed: the list did not end within "
            f"{MAX_PAGES} pages; nothing was changed: run again later, and report it if it repeats"
        )

    def find_in(
        self, method: Callable[..., Any], request: Callable[..., Any], folder_id: str, items: str
    ) -> Any:
        """The folder's resource of this name, or None: `items` of every page of `method`'s list.

        Names are unique in a folder (e.g. yandex/cloud/vpc/v1/gateway_service.proto,
        CreateGatewayRequest.name).
        """
        pages = self.pages(
            "find by name",
            method,
            lambda token: request(folder_id=folder_id, page_size=PAGE_SIZE, page_token=token),
        )
        for page in pages:
            for item in getattr(page, items):
                if item.name == self.name:
                    return item
        return None

    def unpack(self, action: str, packed: Any, kind: Callable[[], M]) -> M:
        """A finished operation's response or metadata (a ``google.protobuf.Any``) as a `kind`.

        An answer without one (or with another type) is an error, not an empty message whose
        empty id would be stored as the resource's.
        """
        message = kind()
        if not packed.Unpack(message):
            raise YandexApiError(
                f"{self.subject.kind} '{self.name}': {action}: the API's answer held "
                f"{packed.type_url or 'nothing'} where {message.DESCRIPTOR.full_name} was expected; "
                "check the resource in the console before running again, it may have been made"
            )
        return message

    def run(self, action: str, method: Callable[..., Operation], request: Any) -> Operation:
        """A mutating call and the operation it starts, waited for; its error is the resource's error."""
        operation = self.call(action, method, request, mutating=True)
        deadline = time.monotonic() + self.operation_timeout_seconds
        current = operation
        while not current.done:
            if time.monotonic() > deadline:
                raise YandexApiError(
                    f"{self.subject.kind} '{self.name}': {action} did not finish in "
                    f"{self.operation_timeout_seconds:g} s (operation {operation.id}); "
                    f"check it with `yc operation get {operation.id}`"
                )
            time.sleep(self.poll_seconds)
            current = self.call(action, self._operations.Get, GetOperationRequest(operation_id=operation.id))
        if current.error.code:
            raise self.subject.describe(self.name, action, code_of(current.error.code), current.error.message)
        return current
