"""The command line: help on every command, clear exit codes."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from infra.ops.cli import build_parser
from tests.conftest import PROJECT_DIR


def command_paths() -> list[list[str]]:
    """Every command and subcommand of the parser, as argument lists."""
    paths: list[list[str]] = [[]]
    stack: list[tuple[list[str], argparse.ArgumentParser]] = [([], build_parser())]
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
        [sys.executable, "-m", "infra.ops.cli", *path, "--help"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: samokoder-infra"), result.stdout


def parsers() -> list[argparse.ArgumentParser]:
    found, pending = [], [build_parser()]
    while pending:
        parser = pending.pop()
        found.append(parser)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                pending.extend(action.choices.values())
    return found


def test_every_argument_and_command_says_what_it_is_for() -> None:
    for parser in parsers():
        assert parser.description, parser.prog
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                assert all(choice.help for choice in action._choices_actions), parser.prog
            else:
                assert action.help, (parser.prog, action.dest)


def test_no_command_is_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "infra.ops.cli"], cwd=PROJECT_DIR, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "required: COMMAND" in result.stderr
