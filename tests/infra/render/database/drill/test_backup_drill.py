"""The backup and restore drill: real PostgreSQL 15, barman-cloud and an S3 API, rendered settings."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future

import pytest

from infra.ops.synth.runner import Synthesis
from tests.conftest import STACKS
from tests.infra.render.database.drill.drill import Rehearsal, rendered_settings
from tests.infra.render.database.drill.fixtures import ROWS

Synth = Callable[[str], Synthesis]


@pytest.fixture(scope="module", params=STACKS)
def rehearsal(
    request: pytest.FixtureRequest, drill_rehearsals: dict[str, Future[Rehearsal]]
) -> tuple[str, Rehearsal]:
    # The drills started with the session (tests/infra/render/database/drill/fixtures.py).
    stack: str = request.param
    return stack, drill_rehearsals[stack].result()


def test_the_drill_uses_the_stacks_rendered_settings(synthesized: Synth) -> None:
    staging, prod = (rendered_settings(synthesized(stack)) for stack in STACKS)
    assert staging.destination == "s3://samokoder-staging-db-backups/postgres"
    assert staging.server_name == "samokoder-db"
    assert "--gzip" in staging.wal_flags
    assert (staging.retention_policy, prod.retention_policy) == (
        "RECOVERY WINDOW OF 7 DAYS",
        "RECOVERY WINDOW OF 30 DAYS",
    )
    assert prod.archive_timeout == "120s"


@pytest.mark.tool
def test_point_in_time_restore_has_every_row_committed_before_the_target_and_none_after(
    rehearsal: tuple[str, Rehearsal],
) -> None:
    _, r = rehearsal
    assert len(r.before_backup) == len(r.before_target) == len(r.after_target) == ROWS
    assert r.found_at_target == r.before_backup | r.before_target
    assert not r.found_at_target & r.after_target


@pytest.mark.tool
def test_restore_to_the_latest_point_has_every_committed_row(rehearsal: tuple[str, Rehearsal]) -> None:
    _, r = rehearsal
    assert r.found_at_latest == r.before_backup | r.before_target | r.after_target


@pytest.mark.tool
def test_retention_keeps_backups_inside_the_window_and_drops_what_is_obsolete(
    rehearsal: tuple[str, Rehearsal],
) -> None:
    _, r = rehearsal
    assert set(r.kept_inside_window) == {r.first_backup, r.second_backup}
    # Past the window the newest backup still anchors recovery; the older one goes.
    assert r.kept_past_window == (r.second_backup,)
    older_wal = [w for w in r.wal_before_retention if w[:24] < r.second_backup_begin_wal]
    assert older_wal, "the drill archived no WAL before the second backup"
    assert not [w for w in r.wal_after_retention if w[:24] < r.second_backup_begin_wal]


@pytest.mark.tool
def test_backups_are_compressed_in_the_object_store(rehearsal: tuple[str, Rehearsal]) -> None:
    _, r = rehearsal
    # Two base backups and the WAL of three batches fit in less than the live database
    # only because barman-cloud compressed them as the ObjectStore asks.
    assert 0 < r.stored_bytes < 2 * r.database_bytes
