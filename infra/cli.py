"""`samokoder-infra`: the operators' command line.

Every command has --help. Exit codes: 0 success, 1 failure while running,
2 invalid input (bad config or arguments).
"""

from __future__ import annotations

import argparse
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
        "stack",
        nargs="?",
        default=DEFAULT_STACK,
        help=f"stack to synthesize: {', '.join(known_stacks())} (default: {DEFAULT_STACK})",
    )
    synth.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="output directory (default: build/STACK in the project)",
    )
    synth.set_defaults(handler=_synth)
    return parser


def _synth(args: argparse.Namespace) -> int:
    # Imported here so that --help does not pay for loading Pulumi and the providers.
    from infra.synth.runner import synthesize  # noqa: PLC0415
    from infra.synth.writer import write_synthesis  # noqa: PLC0415

    project = _project_dir()
    out_dir: Path = args.out or project / "build" / args.stack
    print(f"synth {args.stack}: running the program under Pulumi's mock runtime ...", flush=True)
    started = time.perf_counter()
    try:
        synthesis = synthesize(args.stack, project)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_INVALID
    files = write_synthesis(synthesis, out_dir)
    elapsed = time.perf_counter() - started

    counts = synthesis.counts_by_type()
    width = max(len(t) for t in counts)
    print(f"\n{'resource type':<{width}}  count")
    for type_, count in counts.items():
        print(f"{type_:<{width}}  {count:>5}")
    print(f"{'total':<{width}}  {sum(counts.values()):>5}")
    print(f"\nwarnings: {len(synthesis.warnings)}")
    for warning in synthesis.warnings:
        print(f"  - {warning}")
    print(f"\nwrote {len(files)} files to {out_dir} in {elapsed:.1f}s")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = args.handler
    result: int = handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
