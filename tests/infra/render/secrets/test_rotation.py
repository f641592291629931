"""Rotation stamps: constant until the first rotation, then the request's moment, one group at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from infra.render.secrets.rotation import NEVER_ROTATED, rotation_stamp
from infra.settings.secrets import SECRET_GROUPS, SecretGroup

MOSCOW = timezone(timedelta(hours=3))


@pytest.mark.parametrize("group", SECRET_GROUPS)
def test_a_group_never_rotated_keeps_one_constant_stamp(group: SecretGroup) -> None:
    assert rotation_stamp({}, group) == rotation_stamp({}, group) == NEVER_ROTATED


def test_the_constant_can_never_be_mistaken_for_a_rotation() -> None:
    with pytest.raises(ValueError, match="Invalid isoformat"):
        datetime.fromisoformat(NEVER_ROTATED)


@pytest.mark.parametrize(
    "moment", [datetime(2026, 11, 26, 10, 0, tzinfo=UTC), datetime(2026, 11, 26, 13, 0, tzinfo=MOSCOW)]
)
def test_a_rotated_group_is_stamped_with_the_moment_and_its_offset(moment: datetime) -> None:
    stamp = rotation_stamp({"app": moment}, "app")
    parsed = datetime.fromisoformat(stamp)
    assert parsed == moment
    assert parsed.utcoffset() == moment.utcoffset()


def test_rotating_one_group_leaves_the_others_stamp_alone() -> None:
    rotation: dict[SecretGroup, datetime] = {"app": datetime(2026, 11, 26, 10, 0, tzinfo=UTC)}
    assert rotation_stamp(rotation, "monitoring") == rotation_stamp({}, "monitoring")
    assert rotation_stamp(rotation, "app") != rotation_stamp({}, "app")


def test_each_new_rotation_changes_the_stamp_and_repeating_one_does_not() -> None:
    first = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    later = first + timedelta(seconds=1)
    assert rotation_stamp({"app": first}, "app") != rotation_stamp({"app": later}, "app")
    assert rotation_stamp({"app": first}, "app") == rotation_stamp({"app": first.replace()}, "app")
