"""`samokoder-infra`: the operators' command line.

Every command has --help. Exit codes: 0 success, 1 failure while running,
2 invalid input (bad config or arguments).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from infra.config import ConfigError
from stacks import known_stacks

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2
DEFAULT_STACK = "staging"


def _project_dir() -> Path:
    # The project is where Pulumi.yaml is: the current directory or above.
    here = Path.cwd()
    for candidate in (here, *here.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    return here


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="samokoder-infra",
        description="Samokoder infrastructure on Yandex Cloud: offline synth and operations.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    synth = commands.add_parser(
        "synth",
        help="render what a stack would deploy, offline (no cloud, no CLI, no credentials)",
        description=(
            "Run the Pulumi program for STACK under Pulumi's mock runtime and write "
            "build/STACK/: resources.json (every resource, secrets redacted), outputs.json, "
            "and one YAML file per Kubernetes object under k8s/."
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
        help="output directory, with a single STACK (default: build/STACK in the project)",
    )
    synth.set_defaults(handler=_synth)
    return parser


def _synth(args: argparse.Namespace) -> int:
    if args.out is not None and len(args.stacks) != 1:
        print("synth: --out takes a single STACK", file=sys.stderr)
        return EXIT_INVALID
    # Imported here so that --help does not pay for loading Pulumi and the providers.
    from infra.synth.runner import synthesize  # noqa: PLC0415
    from infra.synth.writer import write_synthesis  # noqa: PLC0415

    project = _project_dir()
    for stack in args.stacks:
        out_dir: Path = args.out or project / "build" / stack
        print(f"synth {stack}: running the program under Pulumi's mock runtime ...", flush=True)
        started = time.perf_counter()
        try:
            synthesis = synthesize(stack, project)
        except ConfigError as error:
            print(error, file=sys.stderr)
            return EXIT_INVALID
        files = write_synthesis(synthesis, out_dir)
        _print_summary(synthesis.counts_by_type(), synthesis.warnings)
        print(f"wrote {len(files)} files to {out_dir} in {time.perf_counter() - started:.1f}s\n")
    return EXIT_OK


def _print_summary(counts: dict[str, int], warnings: list[str]) -> None:
    width = max(len(t) for t in counts)
    print(f"\n{'resource type':<{width}}  count")
    for type_, count in counts.items():
        print(f"{type_:<{width}}  {count:>5}")
    print(f"{'total':<{width}}  {sum(counts.values()):>5}")
    print(f"\nwarnings: {len(warnings)}")
    for warning in warnings:
        print(f"  - {warning}")


def main(argv: Sequence[str] | None = None) -> int:
    # A run is short, and what it allocates in bulk (the provider SDKs'
    # modules) lives until exit: cyclic collection passes over it cost about
    # a fifth of synth's wall time and free next to nothing (see
    # benchmarks/synth_benchmark.py for time and peak memory).
    gc.disable()
    args = build_parser().parse_args(argv)
    handler = args.handler
    result: int = handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
