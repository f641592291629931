"""The Lockbox provider's check and diff with inputs not known yet, as `pulumi preview` sends them.

The engine sends the unknown sentinel; the dynamic provider hands check and
diff a ``pulumi.output.Unknown`` where it was (infra/providers/yandex/unknowns.py).
A first preview knows no random value and no KMS key id; a pull request's
preview does not know a rotated value or a replaced key.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pulumi.output import UNKNOWN
from pulumi.runtime import rpc

from infra.providers.lockbox.provider import LockboxSecretProvider
from infra.providers.yandex.connection import Connection

KMS_KEY = "abjkmskey000000000001"
READER = "ajereader00000000001"
VALUES = {"SECRET_KEY": "k" * 64, "APP_SECRET_KEY": "a" * 64}
# Both forms an unknown takes: deserialized, and the wire's sentinel string.
UNKNOWNS = [UNKNOWN, rpc.UNKNOWN]
UNKNOWN_IDS = ["Unknown", "sentinel"]


def inputs(**overrides: Any) -> dict[str, Any]:
    return {
        "connection": Connection(auth="iam_token").as_inputs(),
        "folder_id": "b1gfolder00000000001",
        "name": "samokoder-staging-app",
        "description": "the app's keys",
        "labels": {"environment": "staging"},
        "kms_key_id": KMS_KEY,
        "payload": dict(VALUES),
        "payload_viewers": [READER],
        "deletion_protection": False,
        **overrides,
    }


def deployed() -> dict[str, Any]:
    """The outputs of a secret created from `inputs()`: what diff gets as olds."""
    checked = LockboxSecretProvider().check({}, inputs()).inputs
    return {**checked, "secret_id": "e6q00000000000000001", "version_id": "ver00000000000000001"}


def wire(value: Any) -> Any:
    """`value` as check's answer goes back to the engine."""
    # Its own loop: asyncio.run would unset the main thread's, which Pulumi's runtime uses.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_property(value, [], "value"))
    finally:
        loop.close()


@pytest.mark.parametrize("unknown", UNKNOWNS, ids=UNKNOWN_IDS)
def test_a_first_preview_checks_an_unknown_payload(unknown: Any) -> None:
    checked = LockboxSecretProvider().check({}, inputs(payload=unknown, kms_key_id=unknown))
    assert checked.failures == []
    assert not {"salt", "fingerprints"} & set(checked.inputs)
    assert wire(checked.inputs["payload"]) == rpc.UNKNOWN
    assert wire(checked.inputs["kms_key_id"]) == rpc.UNKNOWN


@pytest.mark.parametrize("unknown", UNKNOWNS, ids=UNKNOWN_IDS)
def test_a_rotated_entry_not_known_yet_is_an_update_of_that_entry(unknown: Any) -> None:
    provider = LockboxSecretProvider()
    olds = deployed()
    news = provider.check(olds, inputs(payload={**VALUES, "SECRET_KEY": unknown})).inputs
    diff = provider.diff("e6q00000000000000001", olds, news)
    assert (diff.changes, diff.replaces) == (True, [])


@pytest.mark.parametrize("unknown", UNKNOWNS, ids=UNKNOWN_IDS)
def test_a_payload_not_known_at_all_is_an_update(unknown: Any) -> None:
    provider = LockboxSecretProvider()
    olds = deployed()
    news = provider.check(olds, inputs(payload=unknown)).inputs
    diff = provider.diff("e6q00000000000000001", olds, news)
    assert (diff.changes, diff.replaces) == (True, [])


@pytest.mark.parametrize("unknown", UNKNOWNS, ids=UNKNOWN_IDS)
def test_a_kms_key_not_known_yet_replaces_the_secret_old_one_first(unknown: Any) -> None:
    provider = LockboxSecretProvider()
    olds = deployed()
    diff = provider.diff(
        "e6q00000000000000001", olds, provider.check(olds, inputs(kms_key_id=unknown)).inputs
    )
    assert (diff.changes, diff.replaces) == (True, ["kms_key_id"])
    assert diff.delete_before_replace is True


@pytest.mark.parametrize("unknown", UNKNOWNS, ids=UNKNOWN_IDS)
@pytest.mark.parametrize(
    "overrides",
    [
        {"payload_viewers": ["UNKNOWN"]},
        {"labels": {"environment": "UNKNOWN"}},
        {"description": "UNKNOWN"},
        {"name": "UNKNOWN"},
    ],
    ids=["a reader's id", "a label", "the description", "the name"],
)
def test_any_other_input_not_known_yet_is_an_update(unknown: Any, overrides: dict[str, Any]) -> None:
    def place(value: Any) -> Any:
        if value == "UNKNOWN":
            return unknown
        if isinstance(value, dict):
            return {k: place(v) for k, v in value.items()}
        if isinstance(value, list):
            return [place(v) for v in value]
        return value

    provider = LockboxSecretProvider()
    olds = deployed()
    news = provider.check(olds, inputs(**place(overrides))).inputs
    diff = provider.diff("e6q00000000000000001", olds, news)
    assert (diff.changes, diff.replaces) == (True, [])
    # A name not known yet may be the same: the old secret would have to go first.
    assert diff.delete_before_replace is True


def test_an_unknown_connection_is_not_judged_before_it_is_known() -> None:
    checked = LockboxSecretProvider().check({}, inputs(connection={"auth": UNKNOWN}))
    assert checked.failures == []


def test_known_inputs_still_fail_the_check_and_compare_as_before() -> None:
    provider = LockboxSecretProvider()
    assert [f.property for f in provider.check({}, inputs(payload={})).failures] == ["payload"]
    olds = deployed()
    diff = provider.diff("e6q00000000000000001", olds, provider.check(olds, inputs()).inputs)
    assert (diff.changes, diff.replaces) == (False, [])
