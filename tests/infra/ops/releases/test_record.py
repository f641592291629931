"""One truth for what is deployed: the stack file on main records the release the stack's last update ran.

The pipeline is played with git on loopback: a deploy writes the release
into a checkout's Pulumi.<stack>.yaml (`record-release`), the update runs,
and only a successful one is committed and pushed; a rollback records what
it went back to (`record-release --deployed`). A clean clone of the
"main" that results is then read as `pulumi up` reads it (the stack file
through the settings loader): its release is the stack's recorded one, which
`verify-release` finds equal to the stack's history.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.ops.releases.history import releases
from infra.ops.releases.record import (
    Recorded,
    RecordError,
    deployed,
    differences,
    read_release,
    write_release,
)
from infra.settings.loader import load_settings
from infra.settings.source import stack_file_values
from tests.cli_runner import samokoder_infra
from tests.conftest import PROJECT_DIR
from tests.infra.ops.releases.histories import DIGESTS, update


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=ci", "-c", "user.email=ci@example.invalid", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    """A bare "main" holding the project's stack files, as the repository does."""
    work = tmp_path / "seed"
    work.mkdir()
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml"):
        shutil.copy(PROJECT_DIR / name, work / name)
    git(work, "init", "-q", "-b", "main")
    git(work, "add", ".")
    git(work, "commit", "-q", "-m", "seed")
    bare = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    return bare


def clean_checkout(origin: Path, where: Path) -> Path:
    git(origin.parent, "clone", "-q", str(origin), str(where))
    return where


def deploy(origin: Path, where: Path, release: str, revision: str, *, up_succeeds: bool) -> None:
    """deploy-stack.yml's steps: record, up, and commit the record only after a successful update."""
    checkout = clean_checkout(origin, where)
    digests = DIGESTS[release]
    result = samokoder_infra(
        checkout,
        "record-release",
        "staging",
        "--id",
        release,
        "--migration",
        revision,
        *(f"--{s}={digests[s]}" for s in ("api", "worker", "frontend")),
    )
    assert result.returncode == 0, result.stderr
    if up_succeeds:
        git(checkout, "commit", "-q", "-m", f"staging runs {release}", "--", "Pulumi.staging.yaml")
        git(checkout, "push", "-q", "origin", "main")


def upped(checkout: Path) -> Recorded:
    """The release a `pulumi up` in this checkout deploys: the stack file through the settings loader."""
    values = stack_file_values(checkout / "Pulumi.staging.yaml")
    release = load_settings("staging", values, offline=True).release
    assert release.images is not None
    return Recorded(release.id, release.migration_revision, release.images.model_dump())


@pytest.mark.slow
def test_a_clean_checkout_deploys_the_release_the_stacks_last_update_ran(
    origin: Path, tmp_path: Path
) -> None:
    history: list[dict[str, Any]] = []
    deploy(origin, tmp_path / "run1", "r1", "aaaa1111", up_succeeds=True)
    history.insert(0, update(1, "r1"))
    deploy(origin, tmp_path / "run2", "r2", "aaaa1111", up_succeeds=True)
    history.insert(0, update(2, "r2"))
    # r3's update fails; the workflow rolls back to r2 and commits nothing.
    deploy(origin, tmp_path / "run3", "r3", "aaaa1111", up_succeeds=False)
    history.insert(0, update(3, "r3", result="failed"))
    history.insert(0, update(4, "r2"))  # the rollback's update

    clean = clean_checkout(origin, tmp_path / "clean")
    assert upped(clean) == deployed(history)
    assert upped(clean).id == "r2"
    record = tmp_path / "history.json"
    record.write_text(json.dumps(history))
    verified = samokoder_infra(clean, "verify-release", "staging", "--history", str(record))
    assert verified.returncode == 0, verified.stderr
    assert "records release r2, which the stack runs" in verified.stdout


def test_a_manual_rollback_is_recorded_from_the_stacks_history(origin: Path, tmp_path: Path) -> None:
    deploy(origin, tmp_path / "run1", "r4", "aaaa1111", up_succeeds=True)
    history = [update(6, "r1"), update(5, "r4")]  # rollback.yml went back to r1
    record = tmp_path / "history.json"
    record.write_text(json.dumps(history))
    checkout = clean_checkout(origin, tmp_path / "rollback")
    stale = samokoder_infra(checkout, "verify-release", "staging", "--history", str(record))
    assert stale.returncode == 1
    assert f"images.api: recorded {DIGESTS['r4']['api']}, deployed {DIGESTS['r1']['api']}" in stale.stderr
    assert "record it: samokoder-infra record-release staging --deployed" in stale.stderr
    written = samokoder_infra(checkout, "record-release", "staging", "--deployed", "--history", str(record))
    assert written.returncode == 0, written.stderr
    assert upped(checkout).id == "r1"
    assert samokoder_infra(checkout, "verify-release", "staging", "--history", str(record)).returncode == 0
    # Only the release block changed: the rest of the file is as committed.
    diff = git(checkout, "diff", "--stat")
    assert "Pulumi.staging.yaml | 8 ++++----" in diff  # the id and three digests


def test_while_the_newest_update_failed_there_is_no_release_to_record() -> None:
    with pytest.raises(RecordError, match=r"newest update \(2, release r2\) failed: .* roll back"):
        deployed([update(2, "r2", result="failed"), update(1, "r1")])


def test_the_block_is_rewritten_in_place_and_read_back() -> None:
    text = (PROJECT_DIR / "Pulumi.staging.yaml").read_text()
    recorded = read_release(text)
    assert recorded is not None
    assert write_release(text, recorded) == text  # byte for byte, comments and pragma included
    other = Recorded.of(releases([update(1, "r3", revision="bbbb2222")])[0])
    rewritten = write_release(text, other)
    assert read_release(rewritten) == other
    assert rewritten.splitlines()[:7] == text.splitlines()[:7]
    bare = write_release("config:\n  samokoder:identity:\n    domain: x.example\n", other)
    assert read_release(bare) == other
    with pytest.raises(RecordError, match="no digest for worker"):
        write_release(text, Recorded("r9", "aaaa1111", {"api": "sha256:1", "frontend": "sha256:2"}))


def test_a_release_without_analysis_is_written_read_back_and_no_difference() -> None:
    """A release that must go whole says so in its block; the program reads it, the comparison not."""
    text = (PROJECT_DIR / "Pulumi.staging.yaml").read_text()
    recorded = read_release(text)
    assert recorded is not None
    whole = replace(recorded, skip_analysis=True)
    written = write_release(text, whole)
    assert read_release(written) == whole
    assert "    skip_analysis: true\n" in written
    settings = load_settings("staging", stack_file_values_of(written), offline=True)
    assert settings.release.skip_analysis is True
    assert load_settings("staging", stack_file_values_of(text), offline=True).release.skip_analysis is False
    # Back without it, the file is what it was, byte for byte; and it is not a different release.
    assert write_release(written, recorded) == text
    assert differences(whole, recorded) == []


def test_record_release_takes_a_whole_release_or_the_deployed_one(tmp_path: Path) -> None:
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp_path)
    shutil.copy(PROJECT_DIR / "Pulumi.staging.yaml", tmp_path)
    half = samokoder_infra(tmp_path, "record-release", "staging", "--id", "r1")
    assert half.returncode == 2
    assert "give either --deployed or --id --migration --api" in half.stderr
    bad = samokoder_infra(
        tmp_path,
        "record-release",
        "staging",
        "--id",
        "r1",
        "--migration",
        "aaaa1111",
        "--api=latest",
        "--worker=latest",
        "--frontend=latest",
    )
    assert bad.returncode == 2
    assert "images.api" in bad.stderr
    assert (tmp_path / "Pulumi.staging.yaml").read_text() == (PROJECT_DIR / "Pulumi.staging.yaml").read_text()


def test_the_api_goes_first_with_the_recorded_worker_and_site_then_the_whole_release(tmp_path: Path) -> None:
    """The deploy's two updates: the new API (Flagger judges it) beside the running worker and site."""
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp_path)
    shutil.copy(PROJECT_DIR / "Pulumi.staging.yaml", tmp_path)
    path = tmp_path / "Pulumi.staging.yaml"
    running = read_release(path.read_text())
    assert running is not None
    new = DIGESTS["r4"]
    first = samokoder_infra(
        tmp_path, "record-release", "staging", "--id", "r4", "--migration", "bbbb2222", "--api", new["api"]
    )
    assert first.returncode == 0, first.stderr
    api_first = read_release(path.read_text())
    assert api_first == Recorded("r4", "bbbb2222", {**running.images, "api": new["api"]}, skip_analysis=False)
    whole = samokoder_infra(
        tmp_path,
        "record-release",
        "staging",
        "--id=r4",
        "--migration=bbbb2222",
        *(f"--{service}={digest}" for service, digest in new.items()),
        "--skip-analysis",
    )
    assert whole.returncode == 0, whole.stderr
    assert read_release(path.read_text()) == Recorded("r4", "bbbb2222", dict(new), skip_analysis=True)
    # A stack file without a release has no worker or site to keep.
    bare = tmp_path / "Pulumi.prod.yaml"
    bare.write_text("config:\n  samokoder:identity:\n    domain: x.example\n")
    lone = samokoder_infra(
        tmp_path, "record-release", "prod", "--id", "r4", "--migration", "bbbb2222", "--api", new["api"]
    )
    assert lone.returncode == 2
    assert "--worker: Pulumi.prod.yaml records no worker digest to keep" in lone.stderr


def stack_file_values_of(text: str) -> dict[str, Any]:
    """The `samokoder:` values of a stack file's text, decoded as Pulumi hands them to the program."""
    document = yaml.safe_load(text)
    return {k.split(":", 1)[1]: v for k, v in document["config"].items() if k.startswith("samokoder:")}
