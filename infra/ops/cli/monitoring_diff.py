"""`monitoring-diff`: summarise in Markdown how alerts, rules and dashboards differ between two builds."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infra.ops.cli.common import EXIT_INVALID, EXIT_OK


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    diff = commands.add_parser(
        "monitoring-diff",
        help="summarise how alerts, rules and dashboards differ between two synth builds (Markdown)",
        description=(
            "Compare BASE and HEAD, each a build/ directory of synth output with one folder per stack, "
            "and print a Markdown summary of added, removed and changed alerts, recording rules and "
            "dashboards per stack. The pull-request workflow posts it."
        ),
    )
    diff.add_argument("base", type=Path, metavar="BASE", help="build/ of the base branch")
    diff.add_argument("head", type=Path, metavar="HEAD", help="build/ of the change")
    diff.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from infra.ops.synth.monitoring_diff import report  # noqa: PLC0415

    for root in (args.base, args.head):
        if not root.is_dir():
            print(f"monitoring-diff: {root} is not a directory of synth output", file=sys.stderr)
            return EXIT_INVALID
    print(report(args.base, args.head), end="")
    return EXIT_OK
