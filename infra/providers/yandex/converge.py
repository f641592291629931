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
from typing import Any, ClassVar

import grpc
from pulumi.dynamic import CheckFailure, CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult

from infra.providers.yandex.connection import Connection
from infra.providers.yandex.errors import YandexApiError
from infra.providers.yandex.unknowns import contains_unknowns, differs, same_or_unknown

# The label every resource the program makes carries (infra/conventions.py: Naming.cloud_labels).
OWNER_LABEL = ("managed-by", "pulumi")


def is_ours(found: Mapping[str, str], wanted: Mapping[str, str]) -> bool:
    """Whether a resource labelled `found` was made by this program for the resource that wants `wanted`."""
    key, value = OWNER_LABEL
    if wanted.get(key) != value:
        # Without the owner label the program cannot tell its own from anybody's.
        return False
    return all(found.get(k) == v for k, v in wanted.items())


def gone(error: YandexApiError) -> bool:
    """The resource is not there (any more): a delete of it has nothing to do."""
    return error.code == grpc.StatusCode.NOT_FOUND


def cleanup_failed(error: YandexApiError, cleanup: Exception, left: str) -> YandexApiError:
    """One error telling the first failure, that cleaning up failed as well, and what is left."""
    return YandexApiError(
        f"{error}; cleaning up failed too ({cleanup}): {left} is left behind, labelled as this "
        "stack's, so the next run adopts it",
        error.code,
    )


def connection(props: Mapping[str, Any]) -> Connection:
    return Connection.from_inputs(dict(props["connection"]))


def described(message: Any) -> dict[str, Any]:
    """The outputs every resource's API message gives alike."""
    return {
        "folder_id": message.folder_id,
        "name": message.name,
        "description": message.description,
        "labels": dict(message.labels),
        "created_at": message.created_at.ToDatetime().isoformat() + "Z",
    }


class CloudProvider(ResourceProvider):
    """A resource on the base: created or adopted, updated, read and deleted by id, gone meaning done.

    A subclass names its API client (``api``), its outputs from the API's
    message (``view``), the create call (``made``) and the inputs an adopted
    or updated resource must hold (``wanted``). Check and diff take inputs not
    known yet (``infra/providers/yandex/unknowns.py``); the rest only known ones.
    """

    # Inputs the API cannot change in place: a change replaces the resource.
    replaced_by: ClassVar[tuple[str, ...]] = ("folder_id",)
    stables: ClassVar[tuple[str, ...]] = ("folder_id",)
    # Inputs a change of which is an update in place.
    in_place: ClassVar[tuple[str, ...]] = ("name", "description", "labels")

    def api(self, props: Mapping[str, Any]) -> Any:
        raise NotImplementedError

    def view(self, found: Any) -> dict[str, Any]:
        raise NotImplementedError

    def made(self, api: Any, props: Mapping[str, Any]) -> Any:
        raise NotImplementedError

    def wanted(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "name": props["name"],
            "description": props.get("description", ""),
            "labels": dict(props.get("labels") or {}),
        }

    def outputs(self, props: Mapping[str, Any], found: Any) -> dict[str, Any]:
        return {**props, **self.view(found)}

    def completed(self, api: Any, props: Mapping[str, Any], found: Any) -> Any:
        """What a create does after the resource is made (nothing, unless a subclass adds steps)."""
        return found

    def mismatch(self, props: Mapping[str, Any], found: Any) -> str:
        """Why `found`, though this stack's, cannot become this resource in place ("" when it can)."""
        return ""

    def adopted(self, api: Any, props: Mapping[str, Any], found: Any) -> Any:
        """`found`, this stack's, brought to the inputs."""
        held = self.view(found)
        changes = {key: value for key, value in self.wanted(props).items() if held[key] != value}
        return api.update(found.id, changes) if changes else found

    def check_connection(self, news: Mapping[str, Any]) -> list[CheckFailure]:
        if "connection" not in news or contains_unknowns(news["connection"]):
            return []
        try:
            connection(news)
        except (ValueError, TypeError) as error:
            return [CheckFailure("connection", str(error))]
        return []

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # An input not known yet may change: a replacement where it replaces, else an update.
        replaces = [key for key in self.replaced_by if differs(olds.get(key), news.get(key))]
        changed = [key for key in (*self.in_place, "connection") if differs(olds.get(key), news.get(key))]
        return DiffResult(
            changes=bool(replaces or changed),
            replaces=replaces,
            stables=list(self.stables),
            # Names are unique in a folder: the old one must go before its replacement
            # (and may have to, while the new name is not known).
            delete_before_replace=same_or_unknown(olds.get("name"), news.get("name")),
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        api = self.api(props)
        try:
            found = self.made(api, props)
        except YandexApiError as error:
            if error.code != grpc.StatusCode.ALREADY_EXISTS:
                raise
            # A create of ours whose answer was lost, or that finished after we stopped waiting.
            found = self._adopt(api, props, error)
        else:
            found = self.completed(api, props, found)
        return CreateResult(found.id, self.outputs(props, found))

    def _adopt(self, api: Any, props: Mapping[str, Any], error: YandexApiError) -> Any:
        found = api.find(str(props["folder_id"]))
        if found is None:
            raise error
        kind = api.subject.kind
        if not is_ours(found.labels, dict(props.get("labels") or {})):
            owner = ", ".join(f"{k}={v}" for k, v in sorted(found.labels.items())) or "none"
            raise YandexApiError(
                f"{kind} '{api.name}': create failed (ALREADY_EXISTS: one of this name is in the folder, "
                f"{found.id}, labelled {owner}, not as this stack's); it is left alone: import it "
                "(`pulumi import`), delete it, or choose another name",
                error.code,
            ) from None
        mismatch = self.mismatch(props, found)
        if mismatch:
            raise YandexApiError(
                f"{kind} '{api.name}' ({found.id}) is this stack's but {mismatch} and run again", error.code
            )
        try:
            return self.adopted(api, props, found)
        except YandexApiError as failed:
            # Live before this create (an earlier run's, its state lost): never ours to delete here.
            raise YandexApiError(
                f"{failed} ({kind} {found.id} was adopted, not made by this create, so it is kept as it "
                "is; the next run adopts it again)",
                failed.code,
            ) from None

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        api = self.api(news)
        before = self.wanted(olds)
        changes = {key: value for key, value in self.wanted(news).items() if before[key] != value}
        found = api.update(id_, changes) if changes else api.get(id_)
        return UpdateResult(self.outputs(news, found))

    def refreshed(self, api: Any, props: Mapping[str, Any], found: Any) -> dict[str, Any]:
        """The outputs after a read (a subclass adds what another call tells)."""
        return self.outputs(props, found)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        api = self.api(props)
        try:
            found = api.get(id_)
        except YandexApiError as error:
            if gone(error):
                return ReadResult("", {})
            raise
        return ReadResult(id_, self.refreshed(api, props, found))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self.deleted(self.api(props), id_)

    @staticmethod
    def deleted(api: Any, id_: str) -> None:
        try:
            api.delete(id_)
        except YandexApiError as error:
            if not gone(error):
                raise
