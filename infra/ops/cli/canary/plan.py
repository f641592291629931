"""`canary plan`: each step of a canary release synthesized offline, and how long a release takes."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from infra.conventions import SERVICES
from infra.ops.cli.canary.shared import given_release, release_arguments, settings_of, stable_record
from infra.ops.cli.common import EXIT_FAILED, EXIT_INVALID, EXIT_OK, add_stack_argument, project_dir

if TYPE_CHECKING:
    from infra.ops.releases.record import Recorded


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    plan = actions.add_parser(
        "plan",
        help="what each step of a canary release changes, offline, and how long a release takes",
        description=(
            "Synthesize STACK with its recorded release and a next release through each step (start, each "
            "weight, promote, and abort beside), and print what each step adds, updates and removes, held "
            "to the step's rules, and the release's duration with the stack's settings. Without --id ... "
            "a next release with new images and the recorded migration revision is assumed; --migration "
            "alone shows a release that moves the schema."
        ),
    )
    add_stack_argument(plan)
    release_arguments(plan, required=False)
    plan.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from pydantic import ValidationError  # noqa: PLC0415

    from infra.ops.canary.steps import release_steps, step_diffs  # noqa: PLC0415
    from infra.ops.canary.timing import release_minutes  # noqa: PLC0415
    from infra.ops.canary.transitions import TransitionRefused  # noqa: PLC0415
    from infra.ops.releases.record import Recorded, RecordError  # noqa: PLC0415
    from infra.settings.loader import ConfigError  # noqa: PLC0415

    try:
        settings = settings_of(args.stack)
        _, stable = stable_record(args.stack)
        if args.release_id is None:
            images = {str(service): "sha256:" + str(n) * 64 for n, service in enumerate(SERVICES, start=7)}
            release = Recorded("next", args.migration or stable.migration_revision, images)
        else:
            release = given_release(args)
        steps = release_steps(transitions_base(stable), release, settings.canary.weights)
    except (ConfigError, RecordError, ValidationError, TransitionRefused) as error:
        print(f"canary plan: {error}", file=sys.stderr)
        return EXIT_INVALID
    diffs = step_diffs(args.stack, project_dir(), steps, on_progress=lambda line: print(line, flush=True))
    beyond = 0
    for diff in diffs:
        counts = ", ".join(f"{op} {diff.count(op)}" for op in ("create", "update", "delete", "replace"))
        print(f"\n{diff.step.label}: {counts}")
        for change in diff.changes:
            print(f"  {change}")
        for change in diff.beyond:
            print(f"  BEYOND THE STEP'S RULES: {change}")
        beyond += len(diff.beyond)
    print()
    for line in release_minutes(settings).lines():
        print(line)
    return EXIT_FAILED if beyond else EXIT_OK


def transitions_base(stable: Recorded) -> Recorded:
    """A plan starts from stable alone, whatever canary is recorded now."""
    from infra.ops.canary import transitions  # noqa: PLC0415

    return stable if stable.canary is None else transitions.abort(stable)
