"""What the canary's actions share: the release arguments, the stack's settings and its record."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from infra.conventions import SERVICES
from infra.ops.cli.common import project_dir

if TYPE_CHECKING:
    from infra.ops.releases.record import Recorded
    from infra.settings.stack import StackSettings


def release_arguments(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument(
        "--id", dest="release_id", required=required, metavar="RELEASE", help="the release id"
    )
    parser.add_argument(
        "--migration",
        required=required,
        metavar="REVISION",
        help="its migration revision (`samokoder-infra migration-revision`)",
    )
    for service in SERVICES:
        parser.add_argument(
            f"--{service}", required=required, metavar="DIGEST", help=f"the {service} image's sha256 digest"
        )


def settings_of(stack: str) -> StackSettings:
    from infra.settings.loader import load_settings  # noqa: PLC0415
    from infra.settings.source import stack_file_values  # noqa: PLC0415

    return load_settings(stack, stack_file_values(project_dir() / f"Pulumi.{stack}.yaml"), offline=True)


def stable_record(stack: str) -> tuple[Path, Recorded]:
    from infra.ops.releases.record import RecordError, read_release  # noqa: PLC0415

    path = project_dir() / f"Pulumi.{stack}.yaml"
    record = read_release(path.read_text())
    if record is None:
        raise RecordError(f"{path.name} records no release by digests to run a canary beside")
    return path, record


def given_release(args: argparse.Namespace) -> Recorded:
    from infra.ops.releases.record import given  # noqa: PLC0415

    return given(args.release_id, args.migration, {str(s): getattr(args, s) for s in SERVICES})


def echo(line: str) -> None:
    print(line, end="", flush=True)
