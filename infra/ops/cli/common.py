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


def stack_name(text: str) -> str:
    """A known stack's name, or argparse's error (exit 2, no traceback)."""
    if text not in known_stacks():
        shown = text if len(text) <= 40 else f"{text[:37]}..."
        raise argparse.ArgumentTypeError(f"unknown stack {shown!r}; known: {', '.join(known_stacks())}")
    return text


def add_stack_argument(parser: argparse.ArgumentParser) -> None:
    """The positional STACK of a command that works on one stack."""
    parser.add_argument(
        "stack", metavar="STACK", type=stack_name, help=f"the stack: {', '.join(known_stacks())}"
    )


class HistoryError(ValueError):
    """A --history file that cannot be read as `pulumi stack history --json`."""


def domain(stack: str) -> str:
    """The stack's public domain, from Pulumi.STACK.yaml."""
    from infra.settings.loader import ConfigError, Problem  # noqa: PLC0415
    from infra.settings.source import stack_file_values  # noqa: PLC0415

    name = f"Pulumi.{stack}.yaml"
    identity = stack_file_values(project_dir() / name).get("identity")
    found = identity.get("domain") if isinstance(identity, dict) else None
    if not isinstance(found, str) or not found:
        raise ConfigError(stack, [Problem(name, "samokoder:identity.domain", "not set: no domain to reach")])
    return found


def update_history(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The stack's update history: from --history FILE, or from the state backend."""
    if args.history is not None:
        return read_history(args.history)
    from infra.ops.automation.rollback import load_history  # noqa: PLC0415

    return load_history(args.stack, project_dir())


def read_history(path: Path) -> list[dict[str, Any]]:
    """A saved `pulumi stack history --json`: a list of updates (objects); else a HistoryError."""
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise HistoryError(f"{path}: cannot be read ({error.strerror or error.__class__.__name__})") from None
    except UnicodeDecodeError:
        raise HistoryError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise HistoryError(
            f"{path}: not JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    except RecursionError:
        raise HistoryError(f"{path}: nested too deeply to be an update history") from None
    if not isinstance(loaded, list) or not all(isinstance(update, dict) for update in loaded):
        raise HistoryError(
            f"{path}: not an update history: expected a JSON list of updates, as "
            "`pulumi stack history --json` writes"
        )
    return loaded
