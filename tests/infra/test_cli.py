"""The command line: help on every command, clear exit codes."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from infra.cli import build_parser
from tests.conftest import PROJECT_DIR


def command_paths() -> list[list[str]]:
    """Every command and subcommand of the parser, as argument lists."""
    paths: list[list[str]] = [[]]
    stack = [([], build_parser())]
    while stack:
        prefix, parser = stack.pop()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    paths.append([*prefix, name])
                    stack.append(([*prefix, name], sub))
    return paths


def test_there_is_at_least_the_synth_command() -> None:
    assert ["synth"] in command_paths()


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "(top)")
def test_every_command_has_help(path: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "infra.cli", *path, "--help"],
        cwd=PROJECT_DIR, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: samokoder-infra"), result.stdout
    # Every argument and option carries a help text.
    for line in result.stdout.splitlines():
        if line.startswith("  ") and not line.strip().startswith("-h"):
            assert len(line.split(maxsplit=1)) == 2 or line.startswith("    "), line


def test_no_command_is_a_usage_error() -> None:
    result = subprocess.run([sys.executable, "-m", "infra.cli"], cwd=PROJECT_DIR,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "required: COMMAND" in result.stderr
