"""`record-release` and `verify-release`: the release each stack runs, recorded in its stack file.

See infra/ops/releases/record.py for the design (git is the record; the
workflows write and commit it, and check it against the stack's history).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from infra.ops.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    Commands,
    Failure,
    HistoryError,
    add_stack_argument,
    stack_file,
    update_history,
)


def register(commands: Commands) -> None:
    record = commands.add_parser(
        "record-release",
        help="write a release into Pulumi.STACK.yaml (the record the deploy commits)",
        description=(
            "Write the release (id, migration revision, the three digests) into Pulumi.STACK.yaml's "
            "samokoder:release, everything else in the file kept as it is. Either give it "
            "(--id --migration --api [--worker --frontend]: a deploy, before `pulumi up`; a digest left "
            "out keeps the one the file records, as the deploy's first update, the API's alone, does) "
            "or take it from the stack's last successful update (--deployed, after a rollback; "
            "--history FILE reads a recorded history instead of the state backend)."
        ),
    )
    add_stack_argument(record)
    record.add_argument("--deployed", action="store_true", help="the release the stack's newest update ran")
    record.add_argument("--history", type=Path, metavar="FILE", help="with --deployed: this history JSON")
    record.add_argument("--id", dest="release_id", metavar="RELEASE", help="the release id")
    record.add_argument(
        "--migration",
        metavar="REVISION",
        help="its migration revision (`samokoder-infra migration-revision`)",
    )
    for service in ("api", "worker", "frontend"):
        record.add_argument(f"--{service}", metavar="DIGEST", help=f"the {service} image's sha256 digest")
    record.add_argument(
        "--skip-analysis",
        action="store_true",
        help="promote the API without Flagger's analysis (a release that must go whole)",
    )
    record.set_defaults(handler=run_record)

    verify = commands.add_parser(
        "verify-release",
        help="check that Pulumi.STACK.yaml records the release the stack really runs",
        description=(
            "Compare Pulumi.STACK.yaml's samokoder:release with the release of the stack's newest update "
            "(which must have succeeded). Exit 0 when they agree, 1 with the differences otherwise: a "
            "preview or an update from this checkout would not start from what runs."
        ),
    )
    add_stack_argument(verify)
    verify.add_argument("--history", type=Path, metavar="FILE", help="a recorded history JSON")
    verify.set_defaults(handler=run_verify)


def _recorded(path: Path) -> tuple[str, Any]:
    """The stack file's text and the release it records; a RecordError names the file."""
    from infra.ops.releases.record import RecordError, read_release  # noqa: PLC0415

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RecordError(f"{path.name}: cannot be read ({error.strerror or type(error).__name__})") from None
    except UnicodeDecodeError:
        raise RecordError(f"{path.name}: not UTF-8 text") from None
    try:
        return text, read_release(text)
    except RecordError as error:
        raise RecordError(f"{path.name}: {error}") from None


def _write_atomically(path: Path, text: str) -> None:
    """Replace `path` whole or not at all: an interrupted write never leaves half a stack file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _one_line(error: Exception) -> str:
    """pydantic's multi-line report as one line: each field and its problem."""
    from pydantic import ValidationError  # noqa: PLC0415

    if isinstance(error, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
    return str(error)


def run_record(args: argparse.Namespace) -> int:
    from pydantic import ValidationError  # noqa: PLC0415

    from infra.ops.releases.record import RecordError, deployed, given, write_release  # noqa: PLC0415

    named = [args.release_id, args.migration, args.api, args.worker, args.frontend]
    required = [args.release_id, args.migration, args.api]
    if args.deployed == any(v is not None for v in named) or (not args.deployed and None in required):
        raise Failure(
            "record-release: give either --deployed or --id --migration --api (and --worker --frontend)"
        )
    path = stack_file(args.stack)
    try:
        text, kept = _recorded(path)
        if args.deployed:
            release = deployed(update_history(args))
        else:
            images = {"api": args.api, "worker": args.worker, "frontend": args.frontend}
            for service in ("worker", "frontend"):
                if images[service] is None:
                    if kept is None or service not in kept.images:
                        raise RecordError(f"--{service}: {path.name} records no {service} digest to keep")
                    images[service] = kept.images[service]
            release = given(args.release_id, args.migration, images, skip_analysis=args.skip_analysis)
        # Validated (given, deployed) and read back (write_release) before anything is written.
        _write_atomically(path, write_release(text, release))
    except (RecordError, ValidationError) as error:
        raise Failure(f"record-release: {_one_line(error)}") from None
    except OSError as error:
        raise Failure(
            f"record-release: {path.name}: cannot be written ({error.strerror})", EXIT_FAILED
        ) from None
    print(f"{path.name}: release {release.id} (migration {release.migration_revision})")
    return EXIT_OK


def run_verify(args: argparse.Namespace) -> int:
    from infra.ops.releases.record import RecordError, deployed, differences  # noqa: PLC0415

    path = stack_file(args.stack)
    try:
        _, recorded = _recorded(path)
        history = update_history(args)
    except (RecordError, HistoryError) as error:
        raise Failure(f"verify-release {args.stack}: {error}") from None
    try:
        running = deployed(history)
    except RecordError as error:
        raise Failure(f"verify-release {args.stack}: {error}", EXIT_FAILED) from None
    found = differences(recorded, running)
    if found:
        listed = "\n".join(f"  {line}" for line in found)
        raise Failure(
            f"verify-release {args.stack}: {path.name} does not record what the stack runs:\n{listed}\n"
            f"record it: samokoder-infra record-release {args.stack} --deployed, and commit {path.name}",
            EXIT_FAILED,
        )
    print(f"verify-release {args.stack}: {path.name} records release {running.id}, which the stack runs")
    return EXIT_OK
