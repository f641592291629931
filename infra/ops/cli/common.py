"""Shared by the commands: exit codes, the default stack, the project directory, stack lookups."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from stacks import known_stacks

# 0 success, 1 failure while running, 2 invalid input (bad config or arguments).
EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2
DEFAULT_STACK = "staging"


def project_dir() -> Path:
    """The project is where Pulumi.yaml is: the current directory or above."""
    here = Path.cwd()
    for candidate in (here, *here.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    return here


def add_stack_argument(parser: argparse.ArgumentParser) -> None:
    """The positional STACK of a command that works on one stack."""
    parser.add_argument("stack", metavar="STACK", help=f"the stack: {', '.join(known_stacks())}")


def domain(stack: str) -> str:
    """The stack's public domain, from Pulumi.STACK.yaml."""
    from infra.settings.source import stack_file_values  # noqa: PLC0415

    identity: dict[str, str] = stack_file_values(project_dir() / f"Pulumi.{stack}.yaml")["identity"]
    return identity["domain"]


def update_history(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The stack's update history: from --history FILE, or from the state backend."""
    if args.history is not None:
        loaded: list[dict[str, Any]] = json.loads(args.history.read_text())
        return loaded
    from infra.ops.automation.rollback import load_history  # noqa: PLC0415

    return load_history(args.stack, project_dir())
