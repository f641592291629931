"""The monitoring artifacts as files: one per rule file and dashboard, read back as they were built."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from infra.render.monitoring.bundle import MonitoringArtifacts, generate
from infra.render.monitoring.render import dump_yaml, write_artifacts
from tests.infra.render.monitoring.support import stack_settings


def written(tmp_path: Path) -> tuple[MonitoringArtifacts, list[Path]]:
    artifacts = generate(stack_settings("staging"))
    return artifacts, write_artifacts(artifacts, tmp_path / "monitoring")


def test_every_artifact_is_written_once_rule_files_first(tmp_path: Path) -> None:
    artifacts, paths = written(tmp_path)
    root = tmp_path / "monitoring"
    assert paths == [
        *(root / "rules" / f"{f.name}.yaml" for f in artifacts.rule_files),
        root / "alertmanager.yml",
        *(root / "dashboards" / f"{uid}.json" for uid in artifacts.dashboards),
    ]
    assert sorted(p for p in root.rglob("*") if p.is_file()) == sorted(paths)


def test_the_files_read_back_as_the_data_they_were_written_from(tmp_path: Path) -> None:
    artifacts, _ = written(tmp_path)
    root = tmp_path / "monitoring"
    for rule_file in artifacts.rule_files:
        assert yaml.safe_load((root / "rules" / f"{rule_file.name}.yaml").read_text()) == rule_file.render()
    assert yaml.safe_load((root / "alertmanager.yml").read_text()) == artifacts.alertmanager
    for uid, dashboard in artifacts.dashboards.items():
        text = (root / "dashboards" / f"{uid}.json").read_text()
        assert json.loads(text) == dashboard
        assert text.endswith("}\n")


def test_multi_line_promql_is_a_block_and_keys_keep_their_order() -> None:
    text = dump_yaml({"expr": "a\n> 1", "alert": "Ä", "for": "5m"})
    assert text == "expr: |-\n  a\n  > 1\nalert: Ä\nfor: 5m\n"
