"""`samokoder-infra restore` without --apply: what it says it reads, after a rebuild too."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infra.ops.cli import main
from infra.settings import loader
from infra.settings.loader import read_profile
from tests.conftest import stack_file_values, write_project


def test_after_a_rebuild_a_restore_names_and_reads_the_archive_the_cluster_writes_now(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = read_profile("staging")
    profile["database"] |= {"server_name": "samokoder-db-2", "recover_from": {"server_name": "samokoder-db"}}
    monkeypatch.setattr(loader, "read_profile", lambda stack: profile)
    monkeypatch.chdir(write_project(tmp_path, "staging", stack_file_values("staging")))
    assert main(["restore", "staging", "--into", "drill"]) == 0
    out = capsys.readouterr().out
    assert "cluster drill from the archive samokoder-db-2, up to the latest archived point" in out
    written = yaml.safe_load((tmp_path / "build" / "staging" / "restore" / "drill.yaml").read_text())
    (origin,) = written["spec"]["externalClusters"]
    assert origin["plugin"]["parameters"]["serverName"] == "samokoder-db-2"
