"""Lockbox API failures as messages that name the secret and the fix, never a value."""

from __future__ import annotations

import grpc

from infra.providers.yandex.errors import Subject, YandexApiError


class LockboxError(YandexApiError):
    """A Lockbox call failed; the message says which secret and what to do."""


SECRET = Subject(
    "Lockbox secret",
    LockboxError,
    {
        grpc.StatusCode.ALREADY_EXISTS: "a secret with this name already exists in the folder: import it "
        "(`pulumi import`) or choose another name",
        grpc.StatusCode.PERMISSION_DENIED: "the account lacks a Lockbox role on the folder or secret "
        "(lockbox.editor to manage secrets, kms.keys.encrypterDecrypter on the KMS key)",
        grpc.StatusCode.UNAUTHENTICATED: "the credentials were refused: check the lockbox auth settings "
        "(service account key file, YC_IAM_TOKEN, or instance metadata)",
        grpc.StatusCode.RESOURCE_EXHAUSTED: "a Lockbox quota is used up (secrets or versions per folder): "
        "delete unused secrets or ask for a higher quota",
        grpc.StatusCode.FAILED_PRECONDITION: "the secret's state does not allow this "
        "(deletion protection on? set deletion_protection to false and update first)",
        grpc.StatusCode.UNAVAILABLE: "the Lockbox API could not be reached: check the endpoint and network",
        grpc.StatusCode.DEADLINE_EXCEEDED: "the Lockbox API did not answer in time: retry",
    },
)
