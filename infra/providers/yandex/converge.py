"""What makes a provider converge after an ambiguous failure, whatever the resource.

* a create whose answer was lost, or whose operation finished after the
  provider stopped waiting, leaves the resource behind: the next create
  answers ``ALREADY_EXISTS``. The provider then finds the resource by folder
  and name and adopts it when its labels say it is ours: every label the
  program asks for is on it with the same value, ``managed-by: pulumi``
  among them (``infra/conventions.py``: ``Naming.cloud_labels``). Anything
  else is someone else's, and the error says so;
* what a create adopted was live before it: a later step of that create that
  fails never deletes it (a cleanup deletes only what the same create made);
  the error says it is kept, and the next run adopts it again;
* deleting what is already gone (``NOT_FOUND``) is success;
* a cleanup that fails after a failed step reports both failures, and what
  is left behind.

Transient statuses are retried by ``api.YandexApi.call``, not here.
"""

from __future__ import annotations

from collections.abc import Mapping

import grpc

from infra.providers.yandex.errors import YandexApiError

# The label every resource the program makes carries (infra/conventions.py: Naming.cloud_labels).
OWNER_LABEL = ("managed-by", "pulumi")


def is_ours(found: Mapping[str, str], wanted: Mapping[str, str]) -> bool:
    """Whether a resource labelled `found` was made by this program for the resource that wants `wanted`."""
    key, value = OWNER_LABEL
    if wanted.get(key) != value:
        # Without the owner label the program cannot tell its own from anybody's.
        return False
    return all(found.get(k) == v for k, v in wanted.items())


def already_exists(error: YandexApiError) -> bool:
    return error.code == grpc.StatusCode.ALREADY_EXISTS


def gone(error: YandexApiError) -> bool:
    """The resource is not there (any more): a delete of it has nothing to do."""
    return error.code == grpc.StatusCode.NOT_FOUND


def not_ours_message(kind: str, name: str, resource_id: str, found: Mapping[str, str]) -> str:
    owner = ", ".join(f"{k}={v}" for k, v in sorted(found.items())) or "none"
    return (
        f"{kind} '{name}': create failed (ALREADY_EXISTS: one of this name is in the folder, "
        f"{resource_id}, labelled {owner}, not as this stack's); it is left alone: import it "
        "(`pulumi import`), delete it, or choose another name"
    )


def cleanup_failed(
    error: YandexApiError, cleanup: Exception, left: str, kind: type[YandexApiError] = YandexApiError
) -> YandexApiError:
    """One error telling the first failure, that cleaning up failed as well, and what is left."""
    return kind(
        f"{error}; cleaning up failed too ({cleanup}): {left} is left behind, labelled as this "
        "stack's, so the next run adopts it",
        error.code,
    )


def adopted_kept(
    error: YandexApiError, what: str, kind: type[YandexApiError] = YandexApiError
) -> YandexApiError:
    """A step after an adoption failed: the adopted resource stays (it was live before this create)."""
    return kind(
        f"{error} ({what} was adopted, not made by this create, so it is kept as it is; "
        "the next run adopts it again)",
        error.code,
    )
