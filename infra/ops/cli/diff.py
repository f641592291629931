"""`diff`: what a change renders differently for a stack, resource by resource, offline."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from infra.ops.cli.common import EXIT_FAILED, EXIT_OK, Commands, Failure, project_dir
from stacks import known_stacks


def register(commands: Commands) -> None:
    diff = commands.add_parser(
        "diff",
        help="what a change renders differently for a stack, resource by resource, offline",
        description=(
            "Synthesize STACK at a base commit (default: the merge base with main) and at the working "
            "tree, and print what the program renders differently: the resources added, removed and "
            "changed (with the changed input paths). Whether a change updates a resource in place or "
            "replaces it is the real `pulumi preview`'s to tell (the PR workflow runs it). "
            "Exit 0 with no change, 1 with changes, 2 for bad input."
        ),
    )
    diff.add_argument(
        "stacks", nargs="+", metavar="STACK", help=f"stacks to compare: {', '.join(known_stacks())}"
    )
    diff.add_argument(
        "--base",
        metavar="GIT_REF",
        help="the commit, branch or tag to compare with (default: the merge base of HEAD with main)",
    )
    diff.add_argument(
        "--format",
        choices=("text", "markdown"),
        default="text",
        help="text for a terminal (default), markdown for a pull-request comment",
    )
    diff.add_argument(
        "--builds",
        type=Path,
        metavar="DIR",
        help=(
            "keep both builds in DIR/base/STACK and DIR/head/STACK (for monitoring-diff) with "
            "DIR/STACK-changes.svg, the stack's picture with the changes coloured"
        ),
    )
    diff.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from infra.ops.synth.builds import BuildError, build, resolve_base  # noqa: PLC0415
    from infra.ops.synth.diff import diff_builds  # noqa: PLC0415
    from infra.ops.synth.diff_report import markdown, text  # noqa: PLC0415

    unknown = [s for s in args.stacks if s not in known_stacks()]
    if unknown:
        raise Failure(f"diff: unknown stack {', '.join(unknown)}; known stacks: {', '.join(known_stacks())}")
    project = project_dir()
    with tempfile.TemporaryDirectory(prefix="samokoder-diff-") as scratch:
        work = args.builds.resolve() if args.builds else Path(scratch)
        try:
            base = resolve_base(project, args.base)
            print(
                f"diff: synthesizing {', '.join(args.stacks)} at {base.label} and at the working tree ...",
                file=sys.stderr,
                flush=True,
            )
            builds = build(project, base, args.stacks, work)
        except BuildError as error:
            raise Failure(f"diff: {error}") from None
        diffs = [diff_builds(s, builds.base / s, builds.head / s) for s in args.stacks]
        if args.builds:
            from infra.ops.synth.diff_graph import changes_svg  # noqa: PLC0415

            for diff in diffs:
                (work / f"{diff.stack}-changes.svg").write_bytes(
                    changes_svg(diff, builds.base / diff.stack, builds.head / diff.stack)
                )
    if args.format == "markdown":
        print(markdown(diffs, base.label, canary_sections(project, args.stacks)), end="")
    else:
        print(text(diffs, base.label), end="")
    return EXIT_FAILED if any(not d.empty for d in diffs) else EXIT_OK


def canary_sections(project: Path, stacks: Sequence[str]) -> dict[str, list[str]]:
    """For each stack: what its canary will be judged on, by the working tree's settings.

    Every stack's, whatever the change: a merge to main is a release (main.yml builds the app
    and Flagger releases it through each stack's Canary), judged by the settings the change leaves.
    """
    from infra.render.workloads.canary import judged_on  # noqa: PLC0415
    from infra.settings.loader import read_yaml_file, validate_settings  # noqa: PLC0415
    from infra.settings.source import stack_file_values  # noqa: PLC0415

    sections = {}
    for stack in stacks:
        # The working tree's own files (this process's `stacks` may be another checkout's).
        profile = read_yaml_file(
            project / "stacks" / f"{stack}.yaml", f"stacks/{stack}.yaml", stack, "profile"
        )
        values = stack_file_values(project / f"Pulumi.{stack}.yaml")
        settings = validate_settings(stack, profile, values, offline=True)
        sections[stack] = judged_on(settings.canary, settings.slo)
    return sections
