"""`samokoder-infra canary`: recording a canary (or refusing one), aborting it, planning a release."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

from infra.ops.releases.record import read_release
from infra.settings.loader import load_settings
from infra.settings.source import stack_file_values
from tests.cli_runner import samokoder_infra
from tests.conftest import PROJECT_DIR
from tests.infra.ops.releases.test_compatibility import script, write

STACK = "staging"
NEXT_REVISION = "0123456789ab"  # pragma: allowlist secret (an Alembic revision id)
NEXT = {"api": "sha256:" + "a" * 64, "worker": "sha256:" + "b" * 64, "frontend": "sha256:" + "c" * 64}
NEXT_STABLE = {"api": "sha256:" + "d" * 64, "worker": "sha256:" + "e" * 64, "frontend": "sha256:" + "f" * 64}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("Pulumi.yaml", f"Pulumi.{STACK}.yaml"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    return tmp_path


def stable_revision() -> str:
    record = read_release((PROJECT_DIR / f"Pulumi.{STACK}.yaml").read_text())
    assert record is not None
    return record.migration_revision


def versions(tmp_path: Path, upgrade: str) -> Path:
    """The release's scripts: stable's revision, and the release's on top of it."""
    return write(
        tmp_path / "versions",
        {
            "a_stable.py": script(stable_revision(), None),
            "b_next.py": script(NEXT_REVISION, stable_revision(), upgrade),
        },
    )


def history_with_a_canary(tmp_path: Path, release: Mapping[str, object], *, weight: int) -> Path:
    """A saved history whose newest update ran ``release`` with NEXT as its canary at ``weight`` %."""
    canary = {"id": "2026.12.01-1", "migration_revision": release["migration_revision"], "images": NEXT}
    value = json.dumps({**release, "canary": {**canary, "weight": weight}})
    update = {"kind": "update", "version": 7, "result": "succeeded", "endTime": "2026-12-01T10:00:00Z"}
    history = tmp_path / "history.json"
    history.write_text(json.dumps([{**update, "config": {"samokoder:release": {"value": value}}}]))
    return history


def start(
    project: Path, *extra: str, migration: str = NEXT_REVISION, images: dict[str, str] = NEXT
) -> tuple[int, str, str]:
    images_args = [arg for service, digest in images.items() for arg in (f"--{service}", digest)]
    result = samokoder_infra(
        project,
        "canary",
        "start",
        STACK,
        "--id",
        "2026.12.01-1",
        "--migration",
        migration,
        *images_args,
        *extra,
    )
    return result.returncode, result.stdout, result.stderr


def test_a_compatible_release_is_recorded_as_the_canary_the_program_reads(
    project: Path, tmp_path: Path
) -> None:
    before = read_release((project / f"Pulumi.{STACK}.yaml").read_text())
    add = 'op.add_column("projects", sa.Column("note", sa.Text(), nullable=True))'
    code, out, err = start(project, "--versions", str(versions(tmp_path, add)))
    assert code == 0, err
    assert "mode=canary" in out
    settings = load_settings(STACK, stack_file_values(project / f"Pulumi.{STACK}.yaml"), offline=True)
    canary = settings.release.canary
    assert canary is not None
    assert canary.weight == settings.canary.weights[0]
    assert canary.images.api == NEXT["api"]
    assert canary.migration_revision == NEXT_REVISION
    # Stable stays what it was.
    assert before is not None
    assert settings.release.id == before.id
    assert settings.release.migration_revision == before.migration_revision


def test_a_release_that_drops_what_stable_reads_cannot_canary(project: Path, tmp_path: Path) -> None:
    text = (project / f"Pulumi.{STACK}.yaml").read_text()
    code, _, err = start(project, "--versions", str(versions(tmp_path, 'op.drop_column("users", "email")')))
    assert code == 2
    assert "not backward compatible" in err
    assert "drop_column" in err
    assert "b_next.py" in err
    assert "--without-canary" in err
    assert (project / f"Pulumi.{STACK}.yaml").read_text() == text

    code, out, err = start(project, "--without-canary")
    assert code == 0, err
    assert "mode=whole" in out
    record = read_release((project / f"Pulumi.{STACK}.yaml").read_text())
    assert record is not None
    assert record.canary is None
    assert record.images == NEXT


def test_a_release_that_moves_the_schema_needs_its_scripts_read(project: Path) -> None:
    code, _, err = start(project)
    assert code == 2
    assert "--versions" in err
    assert f"{stable_revision()} -> {NEXT_REVISION}" in err


def test_a_release_with_the_running_api_rolls_whole_and_says_so(project: Path, tmp_path: Path) -> None:
    running = read_release((project / f"Pulumi.{STACK}.yaml").read_text())
    assert running is not None
    images = {**NEXT, "api": running.images["api"]}
    code, out, err = start(project, migration=stable_revision(), images=images)
    assert code == 0, err
    assert "mode=whole" in out
    assert "its API image is the running one" in out


def test_a_second_canary_is_refused_and_an_abort_leaves_stable(project: Path, tmp_path: Path) -> None:
    before = read_release((project / f"Pulumi.{STACK}.yaml").read_text())
    code, _, err = start(project, migration=stable_revision())
    assert code == 0, err
    code, _, err = start(project, migration=stable_revision())
    assert code == 2
    assert "is already the canary" in err
    aborted = samokoder_infra(project, "canary", "abort", STACK)
    assert aborted.returncode == 0, aborted.stderr
    assert read_release((project / f"Pulumi.{STACK}.yaml").read_text()) == before
    # Applying needs the pulumi CLI (not on samokoder_infra's PATH): refused, the record left as it is.
    code, _, err = start(project, migration=stable_revision())
    assert code == 0, err
    recorded = (project / f"Pulumi.{STACK}.yaml").read_text()
    applied = samokoder_infra(project, "canary", "abort", STACK, "--apply")
    assert applied.returncode == 2
    assert "the pulumi CLI is not on PATH" in applied.stderr
    assert (project / f"Pulumi.{STACK}.yaml").read_text() == recorded
    assert samokoder_infra(project, "canary", "abort", STACK).returncode == 0
    # Aborting twice is not an error: the workflow's clean-up runs after a run that aborted itself.
    again = samokoder_infra(project, "canary", "abort", STACK)
    assert again.returncode == 0, again.stderr
    assert "nothing to abort" in again.stdout
    assert read_release((project / f"Pulumi.{STACK}.yaml").read_text()) == before


def test_abort_deployed_takes_the_canary_from_the_stacks_newest_update(project: Path, tmp_path: Path) -> None:
    """A lost runner: main's stack file never held the canary, the stack's history does."""
    stable = read_release((project / f"Pulumi.{STACK}.yaml").read_text())
    assert stable is not None
    release = {"id": "2026.11.20-9", "migration_revision": stable.migration_revision, "images": NEXT_STABLE}
    history = history_with_a_canary(tmp_path, release, weight=25)
    result = samokoder_infra(project, "canary", "abort", STACK, "--deployed", "--history", str(history))
    assert result.returncode == 0, result.stderr
    written = read_release((project / f"Pulumi.{STACK}.yaml").read_text())
    assert written is not None
    assert written.canary is None
    assert (written.id, written.images) == (release["id"], NEXT_STABLE)
    alone = samokoder_infra(project, "canary", "abort", STACK, "--history", str(history))
    assert alone.returncode == 2
    assert "--history goes with --deployed" in alone.stderr


def test_the_github_output_says_which_way_the_release_goes(project: Path, tmp_path: Path) -> None:
    outputs = tmp_path / "github-output"
    images_args = [arg for service, digest in NEXT.items() for arg in (f"--{service}", digest)]
    migration = ["--migration", stable_revision()]
    args = ["canary", "start", STACK, "--id", "2026.12.01-1", *migration, *images_args]
    result = samokoder_infra(project, *args, env={"GITHUB_OUTPUT": str(outputs)})
    assert result.returncode == 0, result.stderr
    assert outputs.read_text() == "mode=canary\n"


def test_run_refuses_without_a_canary_or_with_grafana_but_no_token(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = samokoder_infra(project, "canary", "run", STACK, "--prometheus", "http://127.0.0.1:9")
    assert result.returncode == 2
    assert "no canary is recorded" in result.stderr
    code, _, err = start(project, migration=stable_revision())
    assert code == 0, err
    # samokoder_infra's PATH holds no pulumi CLI: refused before any step, nothing to abort.
    result = samokoder_infra(project, "canary", "run", STACK, "--prometheus", "http://127.0.0.1:9")
    assert result.returncode == 2
    assert "the pulumi CLI is not on PATH" in result.stderr
    assert "rollback" not in result.stderr
    assert not (project / "build" / STACK / "release-outcome.json").exists()
    monkeypatch.delenv("GRAFANA_TOKEN", raising=False)
    result = samokoder_infra(
        project,
        "canary",
        "run",
        STACK,
        "--prometheus",
        "http://127.0.0.1:9",
        "--grafana",
        "http://127.0.0.1:9",
    )
    assert result.returncode == 2
    assert "GRAFANA_TOKEN" in result.stderr


def test_plan_of_a_release_with_the_running_api_says_why_there_is_no_canary(project: Path) -> None:
    running = read_release((project / f"Pulumi.{STACK}.yaml").read_text())
    assert running is not None
    images = [arg for s, d in {**NEXT, "api": running.images["api"]}.items() for arg in (f"--{s}", d)]
    result = samokoder_infra(
        project, "canary", "plan", STACK, "--id", "n", "--migration", stable_revision(), *images
    )
    assert result.returncode == 2
    assert "has the running API image: there is nothing for a canary to judge" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_plan_prints_each_steps_changes_and_the_time_a_release_takes(project: Path) -> None:
    result = samokoder_infra(project, "canary", "plan", STACK, "--migration", NEXT_REVISION)
    assert result.returncode == 0, result.stderr
    settings = load_settings(STACK, stack_file_values(project / f"Pulumi.{STACK}.yaml"), offline=True)
    first, *rest = settings.canary.weights
    assert f"start at {first} %: create 7, update 0, delete 0, replace 0" in result.stdout
    for weight in rest:
        assert f"weight {weight} %: create 0" in result.stdout
    assert "promote: create 0, update 3, delete 7, replace 0" in result.stdout
    assert "BEYOND" not in result.stdout
    minutes = len(settings.canary.weights) * settings.canary.analysis_minutes
    assert f"judged: {minutes} min when every window decides" in result.stdout


def test_verify_release_does_not_ask_to_record_a_canary_in_flight(project: Path, tmp_path: Path) -> None:
    """Recording it would put the canary on main, where the next `pulumi up` would keep it."""
    stable = read_release((project / f"Pulumi.{STACK}.yaml").read_text())
    assert stable is not None
    release = {"id": stable.id, "migration_revision": stable.migration_revision, "images": stable.images}
    history = history_with_a_canary(tmp_path, release, weight=5)
    result = samokoder_infra(project, "verify-release", STACK, "--history", str(history))
    assert result.returncode == 1
    assert "runs as the canary beside" in result.stderr
    assert "canary abort staging --deployed --apply" in result.stderr
    assert "record-release" not in result.stderr
