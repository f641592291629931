"""The migration rehearsal on real tools: a copy restored by barman-cloud from an S3 API (moto) into
PostgreSQL 15 logging its DDL as CloudNativePG's instances do (csvlog), the steps script the
release's image runs, and squawk's judgement, for three small Alembic histories of our own.

The running release is at revision a1 (a ``projects`` table with rows); each history's b2 is the
new release: ``good`` adds a nullable column; ``fails_on_downgrade`` drops a column that never
existed on the way back; ``breaks_running`` drops and renames columns the running release reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.ops.releases import rehearsal
from tests.infra.ops.releases.rehearsal_copy import SQUAWK, migrate_to_running, rehearse_on_copy
from tests.infra.render.database.drill.drill import BarmanSettings, Drill, drill
from tests.tools import TOOLS_DIR

SETTINGS = BarmanSettings(
    destination="s3://rehearsal-backups/postgres",
    server_name="samokoder-db",
    wal_flags=("--gzip",),
    backup_flags=("--gzip",),
    retention_policy="RECOVERY WINDOW OF 7 DAYS",
    archive_timeout="60s",
)
ROWS = 500

pytestmark = pytest.mark.tool


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Drill, str]]:
    """The running release's database at a1 with rows, and its base backup in the object store."""
    assert (TOOLS_DIR / "barman").is_dir(), "barman-cloud is not installed: run 'make tools'"
    with drill(SETTINGS) as d:
        migrate_to_running(d, tmp_path_factory.mktemp("rehearsal"))
        d.source.sql(
            f"INSERT INTO projects (name, description) SELECT 'p' || i, 'd' FROM generate_series(1, {ROWS}) i"
        )
        backup = d.base_backup()
        yield d, backup


def rehearse(source: tuple[Drill, str], history: str, tmp: Path) -> rehearsal.Verdict:
    run = rehearse_on_copy(*source, history, tmp)
    print(f"{history}: restore {run.restore_seconds:.1f}s;", run.verdict.report().replace("\n", " | "))
    return run.verdict


def test_a_good_migration_runs_up_down_up_and_passes(source: tuple[Drill, str], tmp_path: Path) -> None:
    verdict = rehearse(source, "good", tmp_path)
    assert verdict.running == ("a1",)
    assert [(s.name, s.args, s.rc) for s in verdict.steps] == [
        ("upgrade", ("upgrade", "heads"), 0),
        ("downgrade", ("downgrade", "a1"), 0),
        ("upgrade-again", ("upgrade", "heads"), 0),
    ]
    upgrade, downgrade, again = verdict.steps
    assert upgrade.ddl == again.ddl == ["ALTER TABLE projects ADD COLUMN tags TEXT"]
    assert downgrade.ddl == ["ALTER TABLE projects DROP COLUMN tags"]
    assert not verdict.breaking
    assert verdict.passed, verdict.report()


def test_a_migration_that_fails_on_downgrade_stops_with_the_sql_and_the_servers_message(
    source: tuple[Drill, str], tmp_path: Path
) -> None:
    verdict = rehearse(source, "fails_on_downgrade", tmp_path)
    failed = verdict.failed_step
    assert failed is not None
    assert failed.name == "downgrade"
    assert [s.name for s in verdict.steps] == ["upgrade", "downgrade"]
    (error,) = failed.errors
    assert error.message == 'column "archived" of relation "projects" does not exist'
    assert error.query == "ALTER TABLE projects DROP COLUMN archived"
    assert not verdict.passed
    assert "downgrade a1: FAILED" in verdict.report()


def test_a_migration_that_breaks_the_running_release_is_refused_by_squawk(
    source: tuple[Drill, str], tmp_path: Path
) -> None:
    verdict = rehearse(source, "breaks_running", tmp_path)
    assert verdict.failed_step is None  # it runs: only the judgement stops it
    assert {(f.rule, f.statement) for f in verdict.breaking} >= {
        ("ban-drop-column", "ALTER TABLE projects DROP COLUMN description;"),
        ("renaming-column", "ALTER TABLE projects RENAME name TO title;"),
    }
    assert not verdict.passed
    assert "BREAKS the running release: ban-drop-column" in verdict.report()


def test_the_judgement_only_counts_rules_that_break_a_running_release() -> None:
    """squawk's hygiene rules (timeouts, IF EXISTS) are notes; a drop is a verdict."""
    assert "ban-drop-column" in rehearsal.BREAKING_RULES
    assert (
        not {"require-timeout-settings", "prefer-robust-stmts", "require-lock-timeout"}
        & rehearsal.BREAKING_RULES
    )


def test_sql_squawk_cannot_parse_fails_and_a_local_squawk_config_cannot_silence_a_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unparsable = rehearsal.lint(
        ["ALTER TABLE projects DROP COLUMN x", "NOT SQL AT ALL"], str(SQUAWK), "15.14"
    )
    # squawk then judges nothing in the file: that is a failure, not a pass.
    assert "syntax-error" in {f.rule for f in unparsable if f.breaking}
    (tmp_path / ".squawk.toml").write_text('excluded_rules = ["ban-drop-column"]\n')
    monkeypatch.chdir(tmp_path)
    dropped = rehearsal.lint(["ALTER TABLE projects DROP COLUMN description"], str(SQUAWK), "15.14")
    assert "ban-drop-column" in {f.rule for f in dropped}
