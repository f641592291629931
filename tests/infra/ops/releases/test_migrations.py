"""The release's migration revision from Alembic scripts written as the app writes them."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from infra.ops.releases.migrations import MigrationsError, heads, migration_revision, read_script
from infra.settings.release import Release
from tests.cli_runner import samokoder_infra
from tests.conftest import PROJECT_DIR

# Alembic revision ids, not secrets.
INIT, USERS = "a1b2c3d4e5f6", "b2c3d4e5f6a1"  # pragma: allowlist secret
MAIN, DATED = "c61fd4859b33", "202510070001"  # pragma: allowlist secret
# The app's three heads (infra/app_contract.py): typed and plain assignments, a merge, a branch.
SCRIPTS = {
    "0001_init.py": f'revision = "{INIT}"\ndown_revision = None\n',
    "0002_users.py": (
        '"""users"""\nfrom typing import Sequence, Union\n\n'
        f'revision: str = "{USERS}"\n'
        f'down_revision: Union[str, None] = "{INIT}"\n'
        "branch_labels: Union[str, Sequence[str], None] = None\n"
    ),
    "0003_main.py": f"revision: str = '{MAIN}'\ndown_revision: str | None = '{USERS}'\n",
    "2025_10_07.py": f'revision: str = "{DATED}"\ndown_revision = ("{INIT}",)\n',
    "sec_001.py": 'revision = "sec_001"\ndown_revision = None\n',
    "__init__.py": "",
    "helpers.py": "def revision_of(x):\n    return x\n",
}
HEADS = [DATED, MAIN, "sec_001"]


def write(directory: Path, scripts: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in scripts.items():
        (directory / name).write_text(text)
    return directory


def test_typed_and_plain_revisions_give_the_apps_three_heads(tmp_path: Path) -> None:
    versions = write(tmp_path / "alembic" / "versions", SCRIPTS)
    assert heads(versions) == HEADS
    fingerprint = hashlib.sha256(",".join(HEADS).encode()).hexdigest()[:12]
    assert migration_revision(HEADS) == fingerprint
    # The release setting's pattern and a Kubernetes name both take it.
    digests = {"api": "sha256:" + "1" * 64, "worker": "sha256:" + "2" * 64, "frontend": "sha256:" + "3" * 64}
    Release(id="r1", images=digests, migration_revision=fingerprint)


def test_one_hex_head_is_itself_and_a_merge_leaves_one(tmp_path: Path) -> None:
    merged = {
        **SCRIPTS,
        "0004_merge.py": (
            f'revision: str = "d00dfeed0001"\ndown_revision = ("{MAIN}", "{DATED}", "sec_001")\n'
        ),
    }
    versions = write(tmp_path / "versions", merged)
    assert heads(versions) == ["d00dfeed0001"]
    assert migration_revision(heads(versions)) == "d00dfeed0001"
    assert migration_revision(["sec_001"]) != "sec_001"  # not hex: fingerprinted


def test_a_new_head_changes_the_revision(tmp_path: Path) -> None:
    before = migration_revision(heads(write(tmp_path / "v", SCRIPTS)))
    write(tmp_path / "v", {"sec_002.py": 'revision = "sec_002"\ndown_revision = "sec_001"\n'})
    assert migration_revision(heads(tmp_path / "v")) != before


def test_unreadable_histories_are_refused_with_the_file(tmp_path: Path) -> None:
    with pytest.raises(MigrationsError, match="no Alembic revision scripts"):
        heads(write(tmp_path / "empty", {"__init__.py": ""}))
    bad = write(tmp_path / "bad", {"x.py": "revision = make_id()\n"})
    with pytest.raises(MigrationsError, match=r"x.py: a revision that is not a literal"):
        heads(bad)
    # What Alembic refuses is refused.
    orphan = write(tmp_path / "orphan", {"0002.py": f'revision = "{USERS}"\ndown_revision = "{INIT}"\n'})
    with pytest.raises(MigrationsError, match=rf"0002\.py: down_revision {INIT} is not in"):
        heads(orphan)
    broken = write(tmp_path / "broken", {**SCRIPTS, "0004.py": "revision = (\n"})
    with pytest.raises(MigrationsError, match=r"0004\.py: not readable as Python \(line 1"):
        heads(broken)
    twice = write(tmp_path / "twice", {**SCRIPTS, "copy.py": f'revision = "{INIT}"\n'})
    with pytest.raises(MigrationsError, match=rf"copy\.py: revision {INIT} is also .*0001_init\.py"):
        heads(twice)
    # A cycle beside a sound branch: the branch's head alone would look like an answer.
    cycle = {
        "x1.py": 'revision = "x1"\ndown_revision = "x2"\n',
        "x2.py": 'revision = "x2"\ndown_revision = "x1"\n',
    }
    with pytest.raises(MigrationsError, match="form a cycle"):
        heads(write(tmp_path / "cycle", {**SCRIPTS, **cycle}))
    for text, message in (
        ("revision = None\n", "revision is empty"),
        ("revision = 1\n", "a revision that is not a string"),
    ):
        with pytest.raises(MigrationsError, match=rf"odd\.py: {message}"):
            heads(write(tmp_path / "odd", {**SCRIPTS, "odd.py": text}))


def test_files_that_are_not_scripts_are_skipped(tmp_path: Path) -> None:
    versions = write(tmp_path / "v", SCRIPTS)
    assert read_script(versions / "helpers.py") is None
    assert read_script(versions / "__init__.py") is None
    assert read_script(versions / "2025_10_07.py") == (DATED, (INIT,))


def test_the_command_prints_what_the_deploy_records(tmp_path: Path) -> None:
    versions = write(tmp_path / "alembic" / "versions", SCRIPTS)
    result = samokoder_infra(PROJECT_DIR, "migration-revision", str(versions))
    assert result.returncode == 0, result.stderr
    assert result.stdout == migration_revision(HEADS) + "\n"
    listed = samokoder_infra(PROJECT_DIR, "migration-revision", str(versions), "--heads")
    assert listed.stdout.split() == HEADS
    missing = samokoder_infra(PROJECT_DIR, "migration-revision", str(tmp_path / "nowhere"))
    assert missing.returncode == 2
    assert "not a directory" in missing.stderr
