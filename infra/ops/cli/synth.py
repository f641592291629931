"""`synth`: render what a stack would deploy, offline, and run the policies on it."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from infra.ops.cli.check import policy_check
from infra.ops.cli.common import (
    DEFAULT_STACK,
    EXIT_FAILED,
    EXIT_INVALID,
    EXIT_OK,
    Commands,
    Failure,
    project_dir,
    stack_settings,
)
from infra.settings import ConfigError
from stacks import known_stacks


def register(commands: Commands) -> None:
    synth = commands.add_parser(
        "synth",
        help="render what a stack would deploy, offline (no cloud, no CLI, no credentials)",
        description=(
            "Run the Pulumi program for STACK under Pulumi's mock runtime and write "
            "build/STACK/: resources.json (every resource, secrets redacted), outputs.json, "
            "one YAML file per Kubernetes object under k8s/, and graph.svg, a picture of the stack. "
            "With --preview: as the first `pulumi preview` sees it, into build/STACK-preview/."
        ),
    )
    synth.add_argument(
        "stacks",
        nargs="*",
        default=[DEFAULT_STACK],
        metavar="STACK",
        help=f"stacks to synthesize: {', '.join(known_stacks())} (default: {DEFAULT_STACK})",
    )
    synth.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="output directory, with a single STACK (default: build/STACK in the project, "
        "build/STACK-preview with --preview)",
    )
    synth.add_argument(
        "--preview",
        action="store_true",
        help="as a first `pulumi preview`: nothing exists yet, so ids and computed outputs are "
        "[unknown], the program's applies on them do not run and dynamic providers check inputs "
        "holding unknowns; written apart from the normal build, without the policy check",
    )
    synth.set_defaults(handler=run)


def out_dir_of(project: Path, stack: str, preview: bool) -> Path:
    """Where a synth of `stack` goes by default: a preview never where a normal synth's build is."""
    return project / "build" / (f"{stack}-preview" if preview else stack)


def run(args: argparse.Namespace) -> int:
    from infra.ops.synth.writer import OutDirError, check_out_dir  # noqa: PLC0415

    if args.out is not None and len(args.stacks) != 1:
        raise Failure("synth: --out takes a single STACK")
    project = project_dir()
    # Every stack named, and where it goes, checked before anything is written.
    problems = []
    for stack in args.stacks:
        try:
            stack_settings(stack, project)
        except ConfigError as error:
            problems.append(str(error))
    targets = {stack: args.out or out_dir_of(project, stack, args.preview) for stack in args.stacks}
    if not problems:
        for out_dir in targets.values():
            try:
                check_out_dir(out_dir, legacy_ok=args.out is None)
            except OutDirError as error:
                problems.append(f"synth: {error}")
    if problems:
        raise Failure("\n".join(problems))
    # The worst exit of the stacks': invalid (2) over failed (1) over success (0).
    return max(_synth_one(args, project, stack, targets[stack]) for stack in args.stacks)


def _synth_one(args: argparse.Namespace, project: Path, stack: str, out_dir: Path) -> int:
    # Imported here so that --help does not pay for loading Pulumi and the providers.
    from infra.ops.synth.runner import synthesize  # noqa: PLC0415
    from infra.ops.synth.writer import OutDirError, write_synthesis  # noqa: PLC0415

    mode = "as a first preview " if args.preview else ""
    print(f"synth {stack}: running the program under Pulumi's mock runtime {mode}...", flush=True)
    started = time.perf_counter()
    try:
        synthesis = synthesize(stack, project, preview=args.preview)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_INVALID
    passed: list[bool] = []

    def judge(directory: Path) -> None:
        passed.append(policy_check(synthesis, directory, lands_in=out_dir))

    try:
        # The policy report goes into the tree before it is swapped in.
        write_synthesis(synthesis, out_dir, extra=None if args.preview else judge, legacy_ok=args.out is None)
    except OutDirError as error:
        print(f"synth: {error}", file=sys.stderr)
        return EXIT_INVALID
    except OSError as error:
        # --out under /proc, under a file, on a read-only mount: nothing of the tree is left there.
        print(
            f"synth: {out_dir}: cannot be written ({error.strerror or type(error).__name__})", file=sys.stderr
        )
        return EXIT_INVALID
    counts, warnings = synthesis.counts_by_type(), synthesis.warnings
    width = max(len(t) for t in counts)
    print(f"\n{'resource type':<{width}}  count")
    for type_, count in counts.items():
        print(f"{type_:<{width}}  {count:>5}")
    print(f"{'total':<{width}}  {sum(counts.values()):>5}\n\nwarnings: {len(warnings)}")
    for warning in warnings:
        print(f"  - {warning}")
    if args.preview:
        # The offline validators read known values; CrossGuard at preview makes a policy
        # that meets an unknown an advisory "can't run during preview".
        print(f"policies for {stack}: not run on a preview (run `samokoder-infra synth {stack}`)\n")
    files = sum(1 for p in out_dir.rglob("*") if p.is_file())
    print(f"wrote {files} files to {out_dir} in {time.perf_counter() - started:.1f}s\n")
    return EXIT_OK if all(passed) else EXIT_FAILED
