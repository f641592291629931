"""`samokoder-infra`: the operators' command line, one module per command (exit codes in common.py)."""

from __future__ import annotations

import argparse
import gc
import sys
import warnings
from collections.abc import Sequence
from importlib import import_module

from infra.ops.automation import OperationError
from infra.ops.cli.common import EXIT_FAILED, EXIT_INVALID, Failure, HistoryError
from infra.settings import ConfigError

# The modules that register the commands, in the order `--help` lists them.
COMMANDS = (
    "synth",
    "check",
    "diff",
    "monitoring_diff",
    "restore",
    "cut_over",
    "rehearse",
    "restore_drill",
    "rotate_secrets",
    "releases",
    "rollback",
    "smoke",
    "kube_credential",
    "migration_revision",
    "app_commit",
    "release_record",
    "scan_verdict",
    "verify_images",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="samokoder-infra",
        description="Samokoder infrastructure on Yandex Cloud: offline synth and operations.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        import_module(f"{__name__}.{module}").register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # A run is short, and what it allocates in bulk (the provider SDKs'
    # modules) lives until exit: cyclic collection passes over it cost about
    # a fifth of synth's wall time and free next to nothing (see
    # benchmarks/synth_benchmark.py for time and peak memory).
    gc.disable()
    # pulumi-yandex 0.13 imports pkg_resources (setuptools is pinned below 81
    # for it): its deprecation notice is for that package's authors, not for
    # an operator, and would open every synth and check. Filtered before any
    # command imports the SDK.
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated as an API", category=UserWarning)
    args = build_parser().parse_args(argv)
    try:
        result: int = args.handler(args)
    except Failure as failure:
        print(failure, file=sys.stderr)
        return failure.code
    except (ConfigError, HistoryError, OperationError) as error:
        # What a command leaves to here, in one message: a stack file it reads on the side (smoke's
        # domain, a rollback's) as synth gives it, a history that cannot be read (exit 2), an
        # operation that could not run or finish (exit 1).
        print(f"{args.command}: {error}", file=sys.stderr)
        return EXIT_FAILED if isinstance(error, OperationError) else EXIT_INVALID
    except KeyboardInterrupt:
        # Ctrl-C: one line, not a traceback. synth swaps its tree in whole or not at all (its
        # partial tree is removed on the way out) and record-release replaces the stack file whole.
        print(f"{args.command}: interrupted", file=sys.stderr)
        return EXIT_FAILED
    return result
