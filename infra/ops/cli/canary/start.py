"""`canary start`: the next release recorded as the canary, or whole when it cannot canary."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from infra.ops.cli.canary.shared import given_release, release_arguments, settings_of, stable_record
from infra.ops.cli.common import EXIT_INVALID, EXIT_OK, add_stack_argument


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    start = actions.add_parser(
        "start",
        help="record the next release as the canary at the first weight",
        description=(
            "Write the next release into Pulumi.STACK.yaml as release.canary at the stack's first weight. "
            "When it moves the schema, its migration runs before the canary while stable keeps serving, "
            "so the scripts it adds (--versions) must leave stable's code working; a release that drops, "
            "renames or tightens what stable uses cannot canary and needs --without-canary. A release "
            "whose API image is unchanged has nothing to judge and is recorded whole. Prints mode=canary "
            "or mode=whole (also to $GITHUB_OUTPUT when set)."
        ),
    )
    add_stack_argument(start)
    release_arguments(start, required=True)
    start.add_argument(
        "--versions",
        type=Path,
        metavar="DIR",
        help="the release's Alembic scripts (the app's alembic/versions)",
    )
    start.add_argument(
        "--without-canary",
        action="store_true",
        help="record the release whole: no canary, every pod rolls at the next update (as before canaries)",
    )
    start.set_defaults(handler=handle)


def _announce(mode: str) -> None:
    print(f"mode={mode}")
    output = os.environ.get("GITHUB_OUTPUT")
    if output:
        with open(output, "a", encoding="utf-8") as file:
            file.write(f"mode={mode}\n")


def handle(args: argparse.Namespace) -> int:
    from pydantic import ValidationError  # noqa: PLC0415

    from infra.ops.canary import transitions  # noqa: PLC0415
    from infra.ops.releases.compatibility import CompatibilityError, assess  # noqa: PLC0415
    from infra.ops.releases.record import RecordError, write_release  # noqa: PLC0415
    from infra.settings.loader import ConfigError  # noqa: PLC0415

    try:
        settings = settings_of(args.stack)
        path, stable = stable_record(args.stack)
        if stable.canary is not None:
            raise RecordError(
                f"release {stable.canary.id} is already the canary: run it (`canary run`) or abort it first"
            )
        release = given_release(args)
        whole = args.without_canary or release.images["api"] == stable.images["api"]
        if not whole and release.migration_revision != stable.migration_revision:
            if args.versions is None:
                raise RecordError(
                    f"release {release.id} moves the schema ({stable.migration_revision} -> "
                    f"{release.migration_revision}): give --versions (its Alembic scripts) so that its "
                    "migration can be checked against stable's code, or release it whole (--without-canary)"
                )
            findings = assess(args.versions, stable.migration_revision, release.migration_revision).findings
            if findings:
                listed = "\n".join(f"  {finding}" for finding in findings)
                print(
                    f"canary start: refused: release {release.id}'s migration is not backward compatible; "
                    f"stable's pods would run on a schema they do not know:\n{listed}\n"
                    "release it whole with --without-canary (every pod rolls right after the migration)",
                    file=sys.stderr,
                )
                return EXIT_INVALID
        record = release if whole else transitions.start(stable, release, settings.canary.weights[0])
        path.write_text(write_release(path.read_text(), record))
    except (
        ConfigError,
        RecordError,
        CompatibilityError,
        ValidationError,
        transitions.TransitionRefused,
    ) as error:
        print(f"canary start: {error}", file=sys.stderr)
        return EXIT_INVALID
    if whole:
        why = "--without-canary" if args.without_canary else "its API image is the running one"
        print(f"{path.name}: release {release.id} recorded whole ({why})")
        _announce("whole")
    else:
        print(f"{path.name}: release {release.id} recorded as the canary at {settings.canary.weights[0]} %")
        _announce("canary")
    return EXIT_OK
