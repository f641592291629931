"""Managed Redis API failures as messages that name the cluster and the fix, never the password."""

from __future__ import annotations

import grpc

from infra.providers.yandex.errors import Subject, YandexApiError


class RedisError(YandexApiError):
    """A Managed Redis call failed; the message says which cluster and what to do."""


CLUSTER = Subject(
    "Managed Redis cluster",
    RedisError,
    {
        grpc.StatusCode.ALREADY_EXISTS: "a cluster with this name already exists in the folder: import it "
        "(`pulumi import`) or choose another name",
        grpc.StatusCode.PERMISSION_DENIED: "the account lacks managed-redis.editor on the folder "
        "(and vpc.user on the network)",
        grpc.StatusCode.RESOURCE_EXHAUSTED: "a Managed Redis quota (clusters, cores, memory or disk per "
        "cloud) or the request rate is used up: free some or ask for a higher quota",
        grpc.StatusCode.FAILED_PRECONDITION: "the cluster's state does not allow this (deletion protection "
        "on, or another operation running? set deletion_protection to false and update first, or wait)",
        grpc.StatusCode.INVALID_ARGUMENT: "the API refused the cluster's settings (version, password, "
        "resource preset, disk, zones and subnets): see its message",
    },
)
