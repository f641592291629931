"""`releases`: list a stack's releases from its update history."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infra.ops.cli.common import (
    EXIT_FAILED,
    EXIT_INVALID,
    EXIT_OK,
    HistoryError,
    add_stack_argument,
    update_history,
)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    listing = commands.add_parser(
        "releases",
        help="list a stack's releases from its update history",
        description=(
            "Read STACK's update history (Pulumi Automation API; needs the CLI and the state backend) "
            "and print each update that deployed a release: version, time, result, release id, "
            "migration revision and image digests. --history FILE reads a saved "
            "`pulumi stack history --json` instead."
        ),
    )
    add_stack_argument(listing)
    listing.add_argument(
        "--history", type=Path, metavar="FILE", help="read this history JSON instead of the stack's"
    )
    listing.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from infra.ops.automation.stack import OperationError  # noqa: PLC0415
    from infra.ops.releases.history import releases  # noqa: PLC0415

    try:
        history = update_history(args)
        try:
            found = releases(history)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise HistoryError(f"the history holds an update of the wrong shape ({error!r})") from None
    except HistoryError as error:
        print(f"releases: {error}", file=sys.stderr)
        return EXIT_INVALID
    except OperationError as error:
        print(f"releases: {error}", file=sys.stderr)
        return EXIT_FAILED
    if not found:
        print(f"{args.stack}: no update has deployed a release by digest yet")
        return EXIT_OK
    print(f"{'update':>6}  {'time':<25} {'result':<10} {'release':<16} {'migration':<12} digests")
    for r in found:
        digests = " ".join(f"{s}={d.removeprefix('sha256:')[:12]}" for s, d in sorted(r.images.items()))
        print(f"{r.version:>6}  {r.time:<25} {r.result:<10} {r.id:<16} {r.migration_revision:<12} {digests}")
    return EXIT_OK
