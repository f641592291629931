"""Monitoring artifacts as files: what synth writes and the real tools read.

``build/<stack>/monitoring/`` holds ``rules/<name>.yaml`` (Prometheus rule
files), ``alertmanager.yml`` and ``dashboards/<uid>.json``: exactly what the
``Monitoring`` component deploys, so a reviewer reads what will run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from infra.render.monitoring.bundle import MonitoringArtifacts


class _BlockDumper(yaml.CSafeDumper):
    """Multi-line strings (PromQL) as ``|`` blocks, so a rule file reads like PromQL."""


def _str(dumper: yaml.CSafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str)


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, width=120)


def write_artifacts(artifacts: MonitoringArtifacts, out_dir: Path) -> list[Path]:
    """Write every artifact under ``out_dir``; return the paths, rule files first."""
    written: list[Path] = []
    rules_dir = out_dir / "rules"
    rules_dir.mkdir(parents=True, exist_ok=True)
    for rule_file in artifacts.rule_files:
        path = rules_dir / f"{rule_file.name}.yaml"
        path.write_text(dump_yaml(rule_file.render()))
        written.append(path)
    path = out_dir / "alertmanager.yml"
    path.write_text(dump_yaml(artifacts.alertmanager))
    written.append(path)
    dashboards_dir = out_dir / "dashboards"
    dashboards_dir.mkdir(exist_ok=True)
    for uid, dashboard in artifacts.dashboards.items():
        path = dashboards_dir / f"{uid}.json"
        path.write_text(json.dumps(dashboard, indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written
