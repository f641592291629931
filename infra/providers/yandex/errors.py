"""API failures as messages that name the resource and the fix, never a value it holds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import grpc

# google.rpc.Code numbers, as long-running operations report them.
_CODES = {code.value[0]: code for code in grpc.StatusCode}

# Failures worth another try, by what they mean: the API was unreachable or slow (UNAVAILABLE,
# DEADLINE_EXCEEDED), failed inside (INTERNAL, UNKNOWN), or a concurrent change won (ABORTED).
# A retry of a mutating call is safe: it carries the first attempt's idempotency key.
# RESOURCE_EXHAUSTED is not among them: a used-up quota stays used up however often it is asked.
TRANSIENT = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.ABORTED,
    }
)

# What to do, whatever the resource.
COMMON_FIXES: Mapping[grpc.StatusCode, str] = {
    grpc.StatusCode.NOT_FOUND: "it no longer exists (deleted outside Pulumi?): run `pulumi refresh`",
    grpc.StatusCode.ALREADY_EXISTS: "one with this name already exists in the folder: import it "
    "(`pulumi import`) or choose another name",
    grpc.StatusCode.PERMISSION_DENIED: "the account lacks a role on the folder or the resource",
    grpc.StatusCode.UNAUTHENTICATED: "the credentials were refused: check the connection's auth "
    "(service account key file, YC_IAM_TOKEN, or instance metadata)",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "a quota or a request rate limit is used up: wait, delete "
    "unused resources or ask for a higher quota",
    grpc.StatusCode.FAILED_PRECONDITION: "the resource's state does not allow this "
    "(deletion protection on? set deletion_protection to false and update first)",
    grpc.StatusCode.INVALID_ARGUMENT: "the request was rejected as invalid",
    grpc.StatusCode.UNAVAILABLE: "the API could not be reached: check the endpoint and network",
    grpc.StatusCode.DEADLINE_EXCEEDED: "the API did not answer in time: retry",
    grpc.StatusCode.INTERNAL: "the API failed inside: retry later",
    grpc.StatusCode.UNKNOWN: "the API failed without saying why: retry later",
    grpc.StatusCode.ABORTED: "a concurrent change to the resource won: run again",
}


class YandexApiError(RuntimeError):
    """A Yandex Cloud API call failed; the message says which resource and what to do."""

    def __init__(self, message: str, code: grpc.StatusCode | None = None) -> None:
        super().__init__(message)
        # The API's status, when it gave one.
        self.code = code


@dataclass(frozen=True)
class Subject:
    """What a provider's messages call its resource, and its own advice per status code."""

    kind: str
    fixes: Mapping[grpc.StatusCode, str] = field(default_factory=dict)

    def fix(self, code: grpc.StatusCode) -> str:
        return self.fixes.get(code) or COMMON_FIXES.get(code, "see the API's message")

    def describe(
        self, name: str, action: str, code: grpc.StatusCode, detail: str, tried: str = ""
    ) -> YandexApiError:
        """`tried`: what the retries met and how long they took, when there were any."""
        return YandexApiError(
            f"{self.kind} '{name}': {action} failed ({code.name}: {detail}); {self.fix(code)}{tried}", code
        )


def code_of(number: int) -> grpc.StatusCode:
    return _CODES.get(number, grpc.StatusCode.UNKNOWN)
