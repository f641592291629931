"""``LockboxSecret``: a Pulumi dynamic resource for one Lockbox secret and its payload.

* access bindings and deletion protection are applied after the payload, and
  a failure on the way deletes what this create made, so nothing is left
  half-made, but never a secret it adopted (``infra/providers/yandex/converge.py``);
* a payload change adds a new version, which becomes current (its description
  names the entries by key, never by value); the secret itself stays;
* a change of folder or KMS key, which the API cannot update, replaces it;
* delete respects deletion protection (the API refuses; the message says how
  to lift it);
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
from pulumi.dynamic import CheckFailure, CheckResult, Resource, UpdateResult

from infra.providers.yandex.connection import Connection
from infra.providers.yandex.converge import CloudProvider, cleanup_failed, connection, described
from infra.providers.yandex.errors import YandexApiError
from infra.providers.yandex.unknowns import is_unknown

if TYPE_CHECKING:
    from yandex.cloud.lockbox.v1.secret_pb2 import Secret

    from infra.providers.lockbox.client import LockboxApi

UPDATABLE = ("name", "description", "labels")
# Kept by earlier versions of this provider (a salt and HMACs of the values): dropped on sight.
RETIRED = ("salt", "fingerprints")


def _version_description(old: Mapping[str, str], changed: Mapping[str, str], removed: Sequence[str]) -> str:
    """Entry keys only, never a value, e.g. ``Pulumi: added SMTP_PASSWORD; changed SECRET_KEY``."""
    groups = (
        ("added", [key for key in changed if key not in old]),
        ("changed", [key for key in changed if key in old]),
        ("removed", removed),
    )
    return "Pulumi: " + "; ".join(f"{verb} {', '.join(sorted(keys))}" for verb, keys in groups if keys)


class LockboxSecretProvider(CloudProvider):
    replaced_by = ("folder_id", "kms_key_id")
    # A payload holding a value not known yet (preview) may change: `differs` counts it.
    in_place = (*UPDATABLE, "deletion_protection", "payload_viewers", "payload")

    def api(self, props: Mapping[str, Any]) -> LockboxApi:
        # The SDK and its stubs load only where the provider runs, not in every
        # program (or synth) that merely declares a secret.
        from infra.providers.lockbox.client import LockboxApi  # noqa: PLC0415

        return LockboxApi(connection(props), str(props["name"]))

    def view(self, found: Secret) -> dict[str, Any]:
        return {
            **described(found),
            "secret_id": found.id,
            "kms_key_id": found.kms_key_id,
            "deletion_protection": found.deletion_protection,
            "version_id": found.current_version.id,
            "entry_keys": sorted(found.current_version.payload_entry_keys),
        }

    def outputs(self, props: Mapping[str, Any], found: Secret) -> dict[str, Any]:
        kept = {key: value for key, value in props.items() if key not in RETIRED}
        return {**kept, **self.view(found), "payload_viewers": sorted(props.get("payload_viewers") or [])}

    def refreshed(self, api: LockboxApi, props: Mapping[str, Any], found: Secret) -> dict[str, Any]:
        return self.outputs({**props, "payload_viewers": api.payload_viewers(found.id)}, found)

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = self.check_connection(news)
        payload = news.get("payload")
        if not is_unknown(payload) and not payload:
            failures.append(CheckFailure("payload", "a Lockbox version needs at least one entry"))
        return CheckResult({key: value for key, value in news.items() if key not in RETIRED}, failures)

    def made(self, api: LockboxApi, props: Mapping[str, Any]) -> Secret:
        return api.create(props)

    def completed(self, api: LockboxApi, props: Mapping[str, Any], found: Secret) -> Secret:
        """Access bindings and deletion protection after the payload; a failure deletes the new secret."""
        try:
            viewers = list(props.get("payload_viewers") or [])
            if viewers:
                api.set_payload_viewers(found.id, viewers)
            return self._protected(api, props, found)
        except Exception as failure:
            # Nothing half-made, whatever failed (an API error, a lost connection, a bug): the
            # secret this create made is not yet protected, so it can go; left, it would be
            # adopted by the next run with our labels and the maker's readers.
            error = failure if isinstance(failure, YandexApiError) else YandexApiError(str(failure))
            try:
                self.deleted(api, found.id)
            except Exception as cleanup:
                raise cleanup_failed(error, cleanup, f"secret {found.id}") from failure
            raise YandexApiError(
                f"{error} (the secret created a moment ago was deleted again)", error.code
            ) from failure

    def mismatch(self, props: Mapping[str, Any], found: Secret) -> str:
        if found.kms_key_id == props["kms_key_id"]:
            return ""
        return "encrypted with another KMS key: delete it (`yc lockbox secret delete`)"

    def adopted(self, api: LockboxApi, props: Mapping[str, Any], found: Secret) -> Secret:
        """Its fields as asked; a payload cannot be read back, so the asked one becomes a new version."""
        found = super().adopted(api, props, found)
        # No one may read it while our payload goes in: whoever made it may have granted itself
        # lockbox.payloadViewer (labels are anyone's to write), and SetAccessBindings replaces them all.
        # Our readers come only after our version: until then they would read the maker's payload.
        api.set_payload_viewers(found.id, [])
        payload = dict(props["payload"])
        removed = sorted(set(found.current_version.payload_entry_keys) - set(payload))
        api.add_version(found, "Pulumi: adopted", payload, removed)
        api.set_payload_viewers(found.id, list(props.get("payload_viewers") or []))
        return self._protected(api, props, api.get(found.id))

    @staticmethod
    def _protected(api: LockboxApi, props: Mapping[str, Any], found: Secret) -> Secret:
        if props.get("deletion_protection") and not found.deletion_protection:
            return api.update(found.id, {"deletion_protection": True})
        return found

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        api = self.api(news)
        fields = {key: news.get(key) for key in UPDATABLE if olds.get(key) != news.get(key)}
        # Lift protection first when it goes, set it last when it comes.
        if not news.get("deletion_protection") and olds.get("deletion_protection"):
            fields["deletion_protection"] = False
        found = api.update(id_, fields) if fields else api.get(id_)
        old, new = olds.get("payload") or {}, news["payload"]
        changed = {key: value for key, value in new.items() if old.get(key) != value}
        removed = sorted(set(old) - set(new))
        if changed or removed:
            api.add_version(found, _version_description(old, changed, removed), changed, removed)
            found = api.get(id_)
        viewers = sorted(news.get("payload_viewers") or [])
        if viewers != sorted(olds.get("payload_viewers") or []):
            api.set_payload_viewers(id_, viewers)
        return UpdateResult(self.outputs(news, self._protected(api, news, found)))


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
