"""`check`: run the policy pack's policies on a stack, offline."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from infra.ops.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    Commands,
    Failure,
    add_stack_argument,
    project_dir,
    stack_settings,
)
from infra.settings import ConfigError


def register(commands: Commands) -> None:
    check = commands.add_parser(
        "check",
        help="run the policy pack's policies on a stack, offline",
        description=(
            "Synthesize STACK under the mock runtime and run every policy of the CrossGuard pack "
            "(policy/, the same validator functions) on it; print a table, write "
            "build/STACK/policy-report.json, and exit 1 on a mandatory violation. Synth runs it too."
        ),
    )
    add_stack_argument(check)
    check.add_argument(
        "--resources",
        metavar="FILE",
        type=Path,
        help="judge this resources.json (synth's format) instead of synthesizing STACK; STACK gives "
        "the policies' configuration; nothing is written",
    )
    check.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from infra.ops.synth.runner import synthesize  # noqa: PLC0415
    from infra.ops.synth.writer import MARKER, MARKER_TEXT  # noqa: PLC0415

    if args.resources is not None:
        return check_file(args.stack, args.resources)
    project = project_dir()
    out_dir = project / "build" / args.stack
    try:
        synthesis = synthesize(args.stack, project)
    except ConfigError as error:
        raise Failure(str(error)) from None
    # Made only once the config is good: a refused check leaves no empty directory.
    out_dir.mkdir(parents=True, exist_ok=True)
    if not any(out_dir.iterdir()):
        # build/STACK is synth's too: marked as its tree, the next synth replaces it rather than
        # refusing a directory it did not make (check, then synth, on a fresh clone).
        (out_dir / MARKER).write_text(MARKER_TEXT)
    return EXIT_OK if policy_check(synthesis, out_dir) else EXIT_FAILED


def policy_check(synthesis: Any, out_dir: Path, *, lands_in: Path | None = None) -> bool:
    """Run the policies on a synthesized stack, print the table, write the report; True when none fails.

    ``lands_in``: where ``out_dir`` will be once synth swaps its tree in, the path an operator can open.
    """
    from infra.ops.check.config import policy_config  # noqa: PLC0415
    from infra.ops.check.offline import check, mandatory, table, write_report  # noqa: PLC0415

    config = policy_config(synthesis.settings)
    # The same configuration for `pulumi preview --policy-pack policy/ --policy-pack-config <file>`.
    (out_dir / "policy-config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    violations = check(synthesis.resources, config)
    report = write_report(violations, synthesis.stack, out_dir)
    print(
        f"policies for {synthesis.stack}:\n{table(violations)}\nwrote {(lands_in or out_dir) / report.name}\n"
    )
    return not mandatory(violations)


def check_file(stack: str, path: Path) -> int:
    """The policies on a resources.json in synth's format, configured for `stack`."""
    from infra.ops.check.config import policy_config  # noqa: PLC0415
    from infra.ops.check.offline import ShapeError, check, load_resources, mandatory, table  # noqa: PLC0415

    settings = stack_settings(stack)
    try:
        violations = check(load_resources(path), policy_config(settings))
    except OSError as error:
        raise Failure(f"check: {path}: cannot be read ({error.strerror or type(error).__name__})") from None
    except RecursionError:
        raise Failure(f"check: {path}: nested too deeply to be synth's resources.json") from None
    except ShapeError as error:
        raise Failure(f"check: {path}: {error}") from None
    except (ValueError, TypeError, AttributeError) as error:
        # JSON, UTF-8 and shape errors alike: one line naming the file.
        raise Failure(
            f"check: {path}: not synth's resources.json ({str(error).removeprefix(f'{path}: ')})"
        ) from None
    print(f"policies for {stack} on {path}:\n{table(violations)}\n")
    return EXIT_OK if not mandatory(violations) else EXIT_FAILED
