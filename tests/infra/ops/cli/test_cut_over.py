"""The cut-over command: what it refuses, naming the argument; what it says without --apply; and
restore refusing while the app is served from the restored cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_runner import samokoder_infra
from tests.conftest import stack_file_values, write_project

# End to end (the CLI in processes): out of `make quick`, in `make test`.
pytestmark = pytest.mark.slow

RESTORED = "samokoder-db-restore-20261126-0630"


def project(tmp_path: Path, **config: object) -> Path:
    return write_project(tmp_path, "staging", {**stack_file_values("staging"), **config})


@pytest.mark.parametrize(
    ("config", "to", "expected"),
    [
        ({}, "drill", "cut-over: --to 'drill': 'drill' is no restored cluster of this stack"),
        (
            {"restore": {"into": RESTORED}},
            "drill",
            f"cut-over: --to 'drill': 'drill' is not this stack's restored cluster: samokoder:restore.into "
            f"is '{RESTORED}'",
        ),
        ({"restore": {"into": RESTORED}}, "samokoder-db", "--to 'samokoder-db': must not be 'samokoder-db'"),
        ({}, "Drill_1", "--to 'Drill_1': String should match pattern"),
    ],
    ids=["no restore", "another cluster", "the running cluster", "no cluster name"],
)
def test_a_cut_over_to_what_is_no_restored_cluster_is_refused(
    tmp_path: Path, config: dict[str, object], to: str, expected: str
) -> None:
    path = project(tmp_path, **config)
    before = (path / "Pulumi.staging.yaml").read_text()
    result = samokoder_infra(path, "cut-over", "staging", "--to", to, "--apply")
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert (path / "Pulumi.staging.yaml").read_text() == before


def test_without_apply_it_says_what_would_change(tmp_path: Path) -> None:
    path = project(tmp_path, restore={"into": RESTORED})
    result = samokoder_infra(path, "cut-over", "staging", "--to", RESTORED)
    assert result.returncode == 0, result.stderr
    assert (
        "the app is served from samokoder-db (DATABASE_HOST samokoder-db-pooler-rw.samokoder.svc); it would "
        f"be from {RESTORED} (DATABASE_HOST {RESTORED}-pooler-rw.samokoder.svc)"
    ) in result.stdout
    assert "nothing applied" in result.stdout
    served = project(tmp_path / "served", restore={"into": RESTORED}, cut_over={"to": RESTORED})
    back = samokoder_infra(served, "cut-over", "staging", "--back")
    assert f"served from {RESTORED}" in back.stdout
    assert "it would be from samokoder-db (DATABASE_HOST samokoder-db-pooler-rw.samokoder.svc)" in back.stdout


def test_apply_without_the_pulumi_cli_fails_clearly_and_leaves_the_stack_file_alone(tmp_path: Path) -> None:
    path = project(tmp_path, restore={"into": RESTORED})
    before = (path / "Pulumi.staging.yaml").read_text()
    result = samokoder_infra(path, "cut-over", "staging", "--to", RESTORED, "--apply")
    assert result.returncode == 1
    assert "the pulumi CLI is not on PATH" in result.stderr
    assert (path / "Pulumi.staging.yaml").read_text() == before


def test_restore_refuses_while_the_app_is_served_from_the_restored_cluster(tmp_path: Path) -> None:
    path = project(tmp_path, restore={"into": RESTORED}, cut_over={"to": RESTORED})
    result = samokoder_infra(path, "restore", "staging", "--into", "another")
    assert result.returncode == 2
    assert f"is served from the restored cluster '{RESTORED}'" in result.stderr
    assert "samokoder-infra cut-over staging --back" in result.stderr
