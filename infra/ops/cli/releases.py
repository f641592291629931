"""`releases`: list a stack's releases from its update history."""

from __future__ import annotations

import argparse
from pathlib import Path

from infra.ops.cli.common import EXIT_OK, Commands, add_stack_argument, from_history


def register(commands: Commands) -> None:
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
    from infra.ops.releases.history import releases  # noqa: PLC0415

    found = from_history(args, releases)
    if not found:
        print(f"{args.stack}: no update has deployed a release by digest yet")
        return EXIT_OK
    print(f"{'update':>6}  {'time':<25} {'result':<10} {'release':<16} {'migration':<12} digests")
    for r in found:
        digests = " ".join(f"{s}={d.removeprefix('sha256:')[:12]}" for s, d in sorted(r.images.items()))
        print(f"{r.version:>6}  {r.time:<25} {r.result:<10} {r.id:<16} {r.migration_revision:<12} {digests}")
    return EXIT_OK
