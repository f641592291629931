"""Shared by the commands: exit codes, how a command ends, the project and its stacks, update histories."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from stacks import known_stacks

if TYPE_CHECKING:
    from infra.settings.stack import StackSettings

# 0 success, 1 failure while running, 2 invalid input (bad config or arguments).
EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2
DEFAULT_STACK = "staging"
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
History = list[dict[str, Any]]
T = TypeVar("T")


class Failure(Exception):
    """Ends a command: `main` prints the message to stderr as it is and exits with `code`."""

    def __init__(self, message: str, code: int = EXIT_INVALID) -> None:
        super().__init__(message)
        self.code = code


class HistoryError(ValueError):
    """A --history file that cannot be read as `pulumi stack history --json`."""


def project_dir() -> Path:
    """The project is where Pulumi.yaml is: the current directory or above."""
    here = Path.cwd()
    for candidate in (here, *here.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    return here


def stack_file(stack: str, project: Path | None = None) -> Path:
    return (project or project_dir()) / f"Pulumi.{stack}.yaml"


def stack_settings(stack: str, project: Path | None = None, *, without: str | None = None) -> StackSettings:
    """The stack's profile and stack file validated offline (no provided secret need be readable)."""
    from infra.settings.loader import load_settings  # noqa: PLC0415
    from infra.settings.source import stack_file_values  # noqa: PLC0415

    values = stack_file_values(stack_file(stack, project))
    if without is not None:
        values.pop(without, None)
    return load_settings(stack, values, offline=True)


def stack_name(text: str) -> str:
    """A known stack's name, or argparse's error (exit 2, no traceback)."""
    if text not in known_stacks():
        shown = text if len(text) <= 40 else f"{text[:37]}..."
        raise argparse.ArgumentTypeError(f"unknown stack {shown!r}; known: {', '.join(known_stacks())}")
    return text


def positive_seconds(text: str) -> int:
    """An argparse type for a --timeout: a whole number of seconds from 1 to a day."""
    if not text.isdigit() or not 0 < int(text) <= 86_400:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a whole number of seconds from 1 to 86400")
    return int(text)


def add_stack_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "stack", metavar="STACK", type=stack_name, help=f"the stack: {', '.join(known_stacks())}"
    )


def add_cluster_arguments(parser: argparse.ArgumentParser, timeout: int, waits: str) -> None:
    """--kubectl and --timeout, of a command that works in the stack's cluster: ``waits`` says for what."""
    parser.add_argument("--kubectl", default="kubectl", help="the kubectl to run (default: from PATH)")
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        default=timeout,
        metavar="SECONDS",
        help=f"{waits} (default {timeout})",
    )


def smoke_check(stack: str, attempts: int = 10, interval: float = 6.0) -> int:
    """The smoke check's probes through the stack's public address (the domain from Pulumi.STACK.yaml)."""
    from infra.ops.releases import smoke  # noqa: PLC0415
    from infra.settings.loader import ConfigError, Problem  # noqa: PLC0415
    from infra.settings.source import stack_file_values  # noqa: PLC0415

    path = stack_file(stack)
    identity = stack_file_values(path).get("identity")
    domain = identity.get("domain") if isinstance(identity, dict) else None
    if not isinstance(domain, str) or not domain:
        raise ConfigError(
            stack, [Problem(path.name, "samokoder:identity.domain", "not set: no domain to reach")]
        )
    result = smoke.smoke_check(
        smoke.base_url(domain),
        attempts=attempts,
        interval=interval,
        report=lambda line: print(line, flush=True),
    )
    print(result.summary())
    for verdict in result.failed:
        print(f"smoke check failed: {verdict.probe}: {verdict.url}: {verdict.detail}", file=sys.stderr)
    return EXIT_OK if result.healthy else EXIT_FAILED


def from_history(
    args: argparse.Namespace,
    read: Callable[[History], T],
    shapes: tuple[type[Exception], ...] = (KeyError, TypeError, ValueError, AttributeError),
) -> T:
    """`read` on the stack's update history; an update of a shape it cannot read is a HistoryError."""
    history = update_history(args)
    try:
        return read(history)
    except shapes as error:
        raise HistoryError(f"the history holds an update of the wrong shape ({error!r})") from None


def update_history(args: argparse.Namespace) -> History:
    """The stack's update history: a saved `pulumi stack history --json` (--history FILE), else the
    state backend's."""
    path: Path | None = args.history
    if path is None:
        from infra.ops.automation.rollback import load_history  # noqa: PLC0415

        return load_history(args.stack, project_dir())
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
