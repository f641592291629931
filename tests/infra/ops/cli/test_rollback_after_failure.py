"""`rollback --dry-run` on recorded histories whose newest update failed.

The histories are docs/samples/history-failed-*.json.
"""

from __future__ import annotations

from tests.cli_runner import samokoder_infra
from tests.conftest import PROJECT_DIR


def test_after_a_failed_update_the_rollback_goes_back_to_the_last_good_release() -> None:
    sample = "docs/samples/history-failed-update.json"  # r1 ok, r2 failed
    result = samokoder_infra(PROJECT_DIR, "rollback", "staging", "--dry-run", "--history", sample)
    assert result.returncode == 0, result.stderr
    assert "rollback staging: r2 (update 2) -> r1 (update 1); images of: api, frontend" in result.stdout
    named = samokoder_infra(
        PROJECT_DIR, "rollback", "staging", "--dry-run", "--to", "r1", "--history", sample
    )
    assert named.returncode == 0, named.stderr
    assert "r2 (update 2) -> r1 (update 1)" in named.stdout


def test_a_failed_update_that_carried_a_new_migration_is_refused_with_the_restore_advice() -> None:
    sample = "docs/samples/history-failed-migration.json"  # r1 ok, r2 ok, r3 failed with a new revision
    result = samokoder_infra(PROJECT_DIR, "rollback", "staging", "--dry-run", "--history", sample)
    assert result.returncode == 2
    assert "rollback: refused: release r2 expects database migration revision aaaa1111" in result.stderr
    assert "may be at bbbb2222 (release r3, whose update 3 failed" in result.stderr
    assert "restore the database (docs/runbooks/database-restore.md) and then roll back" in result.stderr
