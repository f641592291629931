"""No plain input or output of a Lockbox secret lets a dictionary recover a value.

The attack: a weak value that passes the strength rule is in the attacker's
dictionary; every plain string the resource keeps (inputs and outputs but the
secret payload) is tried as a key and as a digest, the way the old salt and
12-hex HMAC were. The control shows the attack finds the old scheme's value.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator, Mapping
from typing import Any, cast

import pytest

from infra.providers.lockbox.provider import LockboxSecretProvider
from tests.infra.providers.lockbox.fake_api import FakeLockbox
from tests.infra.providers.lockbox.test_provider import create, inputs, lockbox, update

__all__ = ["lockbox"]  # the fake API's fixture, shared with test_provider

# Long enough for a length rule, and in any dictionary of leaked passwords.
WEAK = "Password1234567890Password1234567890"
DICTIONARY = ("hunter2hunter2hunter2hunter2hunter2", WEAK, "correcthorsebatterystaple" * 2)
PREFIX = 8  # hex digits an attacker needs to match to be sure enough


@pytest.fixture
def fake(request: pytest.FixtureRequest) -> FakeLockbox:
    return cast(FakeLockbox, request.getfixturevalue("lockbox"))


def plain_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if key != "payload":
                yield str(key)
                yield from plain_strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from plain_strings(item)


def recovered(plain: Mapping[str, Any]) -> set[str]:
    """The dictionary words some plain string gives away, as a hash or an HMAC under another."""
    strings = set(plain_strings(plain))
    found = set()
    for word in DICTIONARY:
        digests = [hashlib.sha256(word.encode()).hexdigest()]
        digests += [hmac.new(key.encode(), word.encode(), hashlib.sha256).hexdigest() for key in strings]
        if any(digest[:PREFIX] in string for digest in digests for string in strings):
            found.add(word)
    return found


def test_the_attack_recovers_a_value_from_the_old_salt_and_hmac() -> None:
    salt = secrets.token_hex(16)
    old_outputs = {
        "salt": salt,
        "fingerprints": {
            "SECRET_KEY": hmac.new(salt.encode(), WEAK.encode(), hashlib.sha256).hexdigest()[:12]
        },
    }
    assert recovered(old_outputs) == {WEAK}


def test_no_plain_input_or_output_gives_a_weak_value_away(fake: FakeLockbox) -> None:
    provider = LockboxSecretProvider()
    payload = {"SECRET_KEY": WEAK, "APP_SECRET_KEY": "a" * 64}
    secret_id, olds = create(fake, payload=payload)
    checked = provider.check(olds, inputs(fake, payload={**payload, "APP_SECRET_KEY": "b" * 64})).inputs
    outs = update(secret_id, olds, checked)
    for kept in (olds, checked, outs):
        assert not {"salt", "fingerprints"} & set(kept)
        assert recovered(kept) == set()
        assert not any(WEAK in string for string in plain_strings(kept))


def test_a_state_from_before_drops_its_fingerprints_and_finds_no_change(fake: FakeLockbox) -> None:
    provider = LockboxSecretProvider()
    secret_id, olds = create(fake)
    before = {**olds, "salt": "00" * 16, "fingerprints": {"SECRET_KEY": "0" * 12, "APP_SECRET_KEY": "1" * 12}}
    checked = provider.check(before, inputs(fake)).inputs
    assert not {"salt", "fingerprints"} & set(checked)
    assert provider.diff(secret_id, before, checked).changes is False
    read = provider.read(secret_id, before).outs
    assert read is not None
    assert not {"salt", "fingerprints"} & set(read)
    changed = provider.check(
        before, inputs(fake, payload={"SECRET_KEY": "z" * 64, "APP_SECRET_KEY": "a" * 64})
    ).inputs
    assert provider.diff(secret_id, before, changed).changes is True
