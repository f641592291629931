"""`monitoring-diff`: summarise in Markdown how alerts, rules and dashboards differ between two builds.

A view of the same two builds `diff` makes: read from two build/ directories
(`diff --builds DIR` keeps them in DIR/base and DIR/head), or made here by
the same machinery with --base-ref.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from infra.ops.cli.common import EXIT_OK, Commands, Failure, project_dir
from stacks import known_stacks


def register(commands: Commands) -> None:
    diff = commands.add_parser(
        "monitoring-diff",
        help="summarise how alerts, rules and dashboards differ between two synth builds (Markdown)",
        description=(
            "Compare BASE and HEAD, each a build/ directory of synth output with one folder per stack, "
            "and print a Markdown summary of added, removed and changed alerts, recording rules and "
            "dashboards per stack. The pull-request workflow posts it. With --base-ref, the two builds "
            "are made as `diff` makes them: at that git ref and at the working tree."
        ),
    )
    diff.add_argument("base", type=Path, nargs="?", metavar="BASE", help="build/ of the base branch")
    diff.add_argument("head", type=Path, nargs="?", metavar="HEAD", help="build/ of the change")
    diff.add_argument(
        "--base-ref",
        metavar="GIT_REF",
        help="instead of BASE and HEAD: synthesize every stack at GIT_REF and at the working tree",
    )
    diff.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from infra.ops.synth.builds import BuildError, build, resolve_base  # noqa: PLC0415
    from infra.ops.synth.monitoring_diff import report  # noqa: PLC0415

    if args.base_ref is None:
        if args.base is None or args.head is None:
            raise Failure("monitoring-diff: give BASE and HEAD (build directories) or --base-ref")
        for root in (args.base, args.head):
            if not root.is_dir():
                raise Failure(f"monitoring-diff: {root} is not a directory of synth output")
        print(report(args.base, args.head), end="")
        return EXIT_OK
    if args.base is not None:
        raise Failure("monitoring-diff: give BASE and HEAD or --base-ref, not both")
    project = project_dir()
    with tempfile.TemporaryDirectory(prefix="samokoder-monitoring-diff-") as scratch:
        try:
            builds = build(project, resolve_base(project, args.base_ref), known_stacks(), Path(scratch))
        except BuildError as error:
            raise Failure(f"monitoring-diff: {error}") from None
        print(report(builds.base, builds.head), end="")
    return EXIT_OK
