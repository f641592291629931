"""KMS keys built alone: AES-256, rotated once a year, named and labelled by the stack's convention."""

from __future__ import annotations

import re
from datetime import timedelta

import pulumi
import pytest

from components.kms import kms_key
from infra.ops.synth.mocks import RecordedResource
from tests.components.harness import NAMING, build

KEY = "yandex:index/kmsSymmetricKey:KmsSymmetricKey"


def recorded_key(protect: bool = False) -> RecordedResource:
    built = build(
        lambda: kms_key(
            "backup-key",
            NAMING,
            folder_id="b1gfolder00000000001",
            key_name="db-backups",
            component="database",
            description="Encrypts the database backups",
            opts=pulumi.ResourceOptions(protect=protect),
        )
    )
    return built.one(KEY)


def key() -> dict[str, object]:
    return recorded_key().inputs


def duration(text: str) -> timedelta:
    """A KMS rotation period, which Yandex Cloud spells in hours (``8760h``)."""
    match = re.fullmatch(r"([0-9]+)h", text)
    assert match, f"not a period in hours: {text!r}"
    return timedelta(hours=int(match[1]))


def test_the_key_is_aes_256() -> None:
    assert key()["defaultAlgorithm"] == "AES_256"


def test_the_key_rotates_once_a_year() -> None:
    assert duration(str(key()["rotationPeriod"])) == timedelta(days=365)


def test_the_key_is_named_and_labelled_for_its_stack_and_component() -> None:
    inputs = key()
    assert inputs["name"] == "samokoder-unit-db-backups"
    assert inputs["folderId"] == "b1gfolder00000000001"
    assert inputs["labels"] == {
        "project": "samokoder",
        "environment": "unit",
        "component": "database",
        "managed-by": "pulumi",
    }
    assert inputs["description"]


@pytest.mark.parametrize("protect", [True, False])
def test_the_callers_options_decide_whether_the_key_is_protected(protect: bool) -> None:
    assert recorded_key(protect).protect is protect
