"""``LockboxSecret``: a Pulumi dynamic resource for one Lockbox secret and its payload.

* create waits for the operation; access bindings and deletion protection
  are applied after the payload, and a failure on the way deletes what this
  create made, so nothing is left half-made, but never a secret it adopted
  (that one was live before: it is kept, and the next run adopts it again);
* a payload change adds a new version, which becomes current; the secret
  itself stays;
* a change of folder or KMS key, which the API cannot update, replaces it;
* a create that meets ``ALREADY_EXISTS`` (an earlier create whose answer was
  lost, or whose operation finished after the wait) adopts the folder's secret
  of that name when its labels say it is this stack's, and refuses otherwise
  (``infra/providers/yandex/converge.py``); a cleanup that fails reports both
  failures;
* delete respects deletion protection (the API refuses; the message says how
  to lift it); a secret already gone is deleted;
* read refreshes the state from the API;
* diff names the entries that change, by key, never by value;
* check and diff take inputs not known yet (a preview, a new random value, a
  KMS key being replaced): an unknown entry or payload counts as a change, an
  unknown KMS key or folder as a replacement
  (``infra/providers/yandex/unknowns.py``);
* nothing computed from a value is a plain input or output: a payload change
  is found by comparing the payload itself (secret in the state, as the new
  one is), so no fingerprint or salt is kept, and one left in an older state
  is dropped (a plain salt next to a plain HMAC let a dictionary recover a
  weak value that passed the strength rule).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.dynamic import (
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from infra.providers.lockbox.errors import SECRET, LockboxError
from infra.providers.lockbox.payload import payload_changes
from infra.providers.yandex.connection import Connection
from infra.providers.yandex.converge import (
    adopted_kept,
    already_exists,
    cleanup_failed,
    gone,
    is_ours,
    not_ours_message,
)
from infra.providers.yandex.unknowns import contains_unknowns, differs, is_unknown, same_or_unknown

if TYPE_CHECKING:
    from infra.providers.lockbox.client import LockboxApi, SecretState

# Inputs the API cannot change in place.
REPLACED_BY = ("folder_id", "kms_key_id")
# Inputs Update can change, and their API field names.
UPDATABLE = ("name", "description", "labels")
# Kept by earlier versions of this provider (a salt and HMACs of the values): dropped on sight.
RETIRED = ("salt", "fingerprints")


def _connection(props: Mapping[str, Any]) -> Connection:
    return Connection.from_inputs(dict(props["connection"]))


def _api(props: Mapping[str, Any]) -> LockboxApi:
    # The SDK and its stubs load only where the provider runs, not in every
    # program (or synth) that merely declares a secret.
    from infra.providers.lockbox.client import LockboxApi  # noqa: PLC0415

    return LockboxApi(_connection(props), str(props["name"]))


def _outputs(props: Mapping[str, Any], state: SecretState, viewers: Sequence[str]) -> dict[str, Any]:
    return {
        **{key: value for key, value in props.items() if key not in RETIRED},
        "secret_id": state.id,
        "name": state.name,
        "description": state.description,
        "labels": state.labels,
        "kms_key_id": state.kms_key_id,
        "deletion_protection": state.deletion_protection,
        "payload_viewers": sorted(viewers),
        "version_id": state.version_id,
        "entry_keys": list(state.entry_keys),
        "created_at": state.created_at,
    }


def _adopt(api: LockboxApi, props: Mapping[str, Any], error: LockboxError) -> SecretState:
    """The folder's secret of this name, made ours again: its fields and payload as asked.

    Only a secret whose labels say it is this stack's is adopted; a payload
    cannot be read back, so the asked payload becomes a new current version.
    """
    found = api.find(str(props["folder_id"]))
    if found is None:
        raise error
    labels = dict(props.get("labels") or {})
    if not is_ours(found.labels, labels):
        raise LockboxError(
            not_ours_message(SECRET.kind, api.name, found.id, found.labels), error.code
        ) from None
    if found.kms_key_id != props["kms_key_id"]:
        raise LockboxError(
            f"{SECRET.kind} '{api.name}' ({found.id}) is this stack's but encrypted with another KMS key: "
            "delete it (`yc lockbox secret delete`) and run again",
            error.code,
        )
    fields: dict[str, Any] = {}
    if found.description != props.get("description", ""):
        fields["description"] = props.get("description", "")
    if found.labels != labels:
        fields["labels"] = labels
    state = api.update(found.id, **fields) if fields else found
    # Who may read it is set before our payload goes in: whoever made it may have granted itself
    # lockbox.payloadViewer (labels are anyone's to write), and SetAccessBindings replaces them all.
    try:
        api.set_payload_viewers(state.id, list(props.get("payload_viewers") or []))
    except LockboxError as failed:
        raise adopted_kept(failed, f"secret {state.id}", LockboxError) from None
    payload = dict(props["payload"])
    removed = sorted(set(state.entry_keys) - set(payload))
    api.add_version(state.id, state.version_id, "Pulumi: adopted", payload, removed)
    return api.get(state.id)


class LockboxSecretProvider(ResourceProvider):
    """Check and diff take inputs not known yet (preview); the rest only ever known ones."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = []
        if not contains_unknowns(news.get("connection")):
            try:
                _connection(news)
            except (ValueError, TypeError) as error:
                failures.append(pulumi.dynamic.CheckFailure("connection", str(error)))
        payload = news.get("payload")
        if not is_unknown(payload) and not payload:
            failures.append(
                pulumi.dynamic.CheckFailure("payload", "a Lockbox version needs at least one entry")
            )
        return CheckResult({key: value for key, value in news.items() if key not in RETIRED}, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # An input not known yet may change: a replacement where it replaces, else an update.
        replaces = [key for key in REPLACED_BY if differs(olds.get(key), news.get(key))]
        compared = (*UPDATABLE, "deletion_protection", "payload_viewers", "connection")
        changed = [key for key in compared if differs(olds.get(key), news.get(key))]
        payload = payload_changes(olds.get("payload") or {}, news.get("payload") or {})
        return DiffResult(
            changes=bool(replaces or changed or payload),
            replaces=replaces,
            stables=["folder_id"],
            # Names are unique in a folder: the old one must go before its replacement
            # (and may have to, while the new name is not known).
            delete_before_replace=same_or_unknown(olds.get("name"), news.get("name")),
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        api = _api(props)
        labels = dict(props.get("labels") or {})
        adopted = False
        try:
            state = api.create(
                folder_id=props["folder_id"],
                description=props.get("description", ""),
                labels=labels,
                kms_key_id=props["kms_key_id"],
                payload=props["payload"],
            )
        except LockboxError as error:
            if not already_exists(error):
                raise
            # A create of ours whose answer was lost, or that finished after we stopped waiting.
            state = _adopt(api, props, error)
            adopted = True
        try:
            viewers = list(props.get("payload_viewers") or [])
            if viewers and not adopted:
                api.set_payload_viewers(state.id, viewers)
            if props.get("deletion_protection"):
                state = api.update(state.id, deletion_protection=True)
        except LockboxError as error:
            if adopted:
                # Live before this create (an earlier run's, its state lost): never ours to delete here.
                raise adopted_kept(error, f"secret {state.id}", LockboxError) from None
            # Nothing half-made: the secret this create made is not yet protected, so it can go.
            try:
                api.delete(state.id)
            except Exception as cleanup:
                raise cleanup_failed(error, cleanup, f"secret {state.id}", LockboxError) from None
            raise LockboxError(
                f"{error} (the secret created a moment ago was deleted again)", error.code
            ) from None
        return CreateResult(state.id, _outputs(props, state, viewers))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        api = _api(props)
        try:
            state = api.get(id_)
        except LockboxError as error:
            if gone(error):
                return ReadResult("", {})
            raise
        return ReadResult(id_, _outputs(props, state, api.payload_viewers(id_)))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        api = _api(news)
        fields = {key: news.get(key) for key in UPDATABLE if olds.get(key) != news.get(key)}
        protect = bool(news.get("deletion_protection"))
        # Lift protection first when it goes, set it last when it comes.
        if not protect and olds.get("deletion_protection"):
            fields["deletion_protection"] = False
        state = api.update(id_, **fields) if fields else api.get(id_)
        changes = payload_changes(olds.get("payload") or {}, news.get("payload") or {})
        if changes:
            payload = news["payload"]
            changed = {key: payload[key] for key in (*changes.added, *changes.changed)}
            api.add_version(
                id_,
                state.version_id,
                f"Pulumi: {changes.describe()}",
                changed,
                changes.removed,
            )
            state = api.get(id_)
        viewers = sorted(news.get("payload_viewers") or [])
        if viewers != sorted(olds.get("payload_viewers") or []):
            api.set_payload_viewers(id_, viewers)
        if protect and not state.deletion_protection:
            state = api.update(id_, deletion_protection=True)
        return UpdateResult(_outputs(news, state, viewers))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        # A secret already gone is deleted (the client takes NOT_FOUND as success).
        _api(props).delete(id_)


class LockboxSecret(Resource):
    """One Lockbox secret; ``payload`` is secret end to end, ``entry_keys`` name its entries."""

    secret_id: pulumi.Output[str]
    version_id: pulumi.Output[str]
    created_at: pulumi.Output[str]
    entry_keys: pulumi.Output[list[str]]

    def __init__(
        self,
        resource_name: str,
        *,
        connection: Connection,
        folder_id: pulumi.Input[str],
        name: str,
        kms_key_id: pulumi.Input[str],
        payload: Mapping[str, pulumi.Input[str]],
        description: str = "",
        labels: Mapping[str, str] | None = None,
        payload_viewers: Sequence[pulumi.Input[str]] = (),
        deletion_protection: bool = False,
        rotated_at: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        secret_opts = pulumi.ResourceOptions(additional_secret_outputs=["payload"])
        super().__init__(
            LockboxSecretProvider(),
            resource_name,
            {
                "connection": connection.as_inputs(),
                "folder_id": folder_id,
                "name": name,
                "description": description,
                "labels": dict(labels or {}),
                "kms_key_id": kms_key_id,
                "payload": pulumi.Output.secret(dict(payload)),
                "payload_viewers": list(payload_viewers),
                "deletion_protection": deletion_protection,
                # When the values were last rotated on request (None: since creation);
                # kept in state for the rotation policy, never sent to Lockbox.
                "rotated_at": rotated_at,
                "secret_id": None,
                "version_id": None,
                "created_at": None,
                "entry_keys": None,
            },
            pulumi.ResourceOptions.merge(secret_opts, opts),
        )
