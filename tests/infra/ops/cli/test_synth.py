"""`samokoder-infra synth` as an operator sees it: a true file count, whole numbers, no third-party noise."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli_runner import samokoder_infra
from tests.conftest import PROJECT_DIR, load_json


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, Path]:
    out = tmp_path_factory.mktemp("synth") / "staging"
    result = samokoder_infra(PROJECT_DIR, "synth", "staging", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return result.stdout, result.stderr, out


def test_the_count_of_files_written_is_every_file_of_the_build(run: tuple[str, str, Path]) -> None:
    stdout, _, out = run
    (count,) = re.findall(rf"wrote (\d+) files to {re.escape(str(out))} in ", stdout)
    files = [p for p in out.rglob("*") if p.is_file()]
    assert int(count) == len(files)
    # The policy files, written after the build itself, are among them.
    assert {"policy-config.json", "policy-report.json"} <= {p.name for p in files}


def test_no_pkg_resources_deprecation_warning_is_printed(run: tuple[str, str, Path]) -> None:
    _, stderr, _ = run
    assert "pkg_resources" not in stderr


def test_whole_numbers_are_written_as_integers(run: tuple[str, str, Path]) -> None:
    _, _, out = run
    outputs = load_json(out / "outputs.json")
    assert outputs["database"]["pooler_port"] == 5432
    assert type(outputs["database"]["pooler_port"]) is int
    assert '"pooler_port": 5432\n' in (out / "outputs.json").read_text()
    assert not [
        v for v in _numbers(load_json(out / "resources.json")) if isinstance(v, float) and v.is_integer()
    ]
    whole_float = re.compile(r":\s+-?\d+\.0$", re.MULTILINE)
    offenders = [p for p in sorted((out / "k8s").rglob("*.yaml")) if whole_float.search(p.read_text())]
    assert not offenders, offenders
    assert "- port: 5432\n" in (out / "k8s" / "samokoder" / "networkpolicy-database-pooler.yaml").read_text()


def _numbers(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from _numbers(item)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield value


def test_synth_names_the_policy_report_where_it_lands(tmp_path: Path) -> None:
    """Not the scratch directory the tree is written in before it is swapped in."""
    out = tmp_path / "build" / "staging"
    result = samokoder_infra(PROJECT_DIR, "synth", "staging", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert f"wrote {out / 'policy-report.json'}\n" in result.stdout
    assert (out / "policy-report.json").is_file()
    assert ".partial-" not in result.stdout
