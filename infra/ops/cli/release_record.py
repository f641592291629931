"""`record-release` and `verify-release`: the release each stack runs, recorded in its stack file.

See infra/ops/releases/record.py for the design (git is the record; the
workflows write and commit it, and check it against the stack's history).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infra.ops.cli.common import EXIT_FAILED, EXIT_INVALID, EXIT_OK, add_stack_argument, project_dir


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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


def _stack_file(stack: str) -> Path:
    return project_dir() / f"Pulumi.{stack}.yaml"


def run_record(args: argparse.Namespace) -> int:
    from pydantic import ValidationError  # noqa: PLC0415

    from infra.ops.automation.stack import OperationError  # noqa: PLC0415
    from infra.ops.cli.common import update_history  # noqa: PLC0415
    from infra.ops.releases.record import (  # noqa: PLC0415
        RecordError,
        deployed,
        given,
        read_release,
        write_release,
    )

    named = [args.release_id, args.migration, args.api, args.worker, args.frontend]
    required = [args.release_id, args.migration, args.api]
    if args.deployed == any(v is not None for v in named) or (not args.deployed and None in required):
        print(
            "record-release: give either --deployed or --id --migration --api (and --worker --frontend)",
            file=sys.stderr,
        )
        return EXIT_INVALID
    path = _stack_file(args.stack)
    try:
        if args.deployed:
            release = deployed(update_history(args))
        else:
            text = path.read_text()
            kept = read_release(text)
            images = {"api": args.api, "worker": args.worker, "frontend": args.frontend}
            for service in ("worker", "frontend"):
                if images[service] is None:
                    if kept is None or service not in kept.images:
                        raise RecordError(f"--{service}: {path.name} records no {service} digest to keep")
                    images[service] = kept.images[service]
            release = given(args.release_id, args.migration, images, skip_analysis=args.skip_analysis)
        path.write_text(write_release(path.read_text(), release))
    except (RecordError, ValidationError) as error:
        print(f"record-release: {error}", file=sys.stderr)
        return EXIT_INVALID
    except OperationError as error:
        print(f"record-release: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{path.name}: release {release.id} (migration {release.migration_revision})")
    return EXIT_OK


def run_verify(args: argparse.Namespace) -> int:
    from infra.ops.automation.stack import OperationError  # noqa: PLC0415
    from infra.ops.cli.common import update_history  # noqa: PLC0415
    from infra.ops.releases.record import RecordError, deployed, differences, read_release  # noqa: PLC0415

    path = _stack_file(args.stack)
    try:
        running = deployed(update_history(args))
    except RecordError as error:
        print(f"verify-release {args.stack}: {error}", file=sys.stderr)
        return EXIT_FAILED
    except OperationError as error:
        print(f"verify-release: {error}", file=sys.stderr)
        return EXIT_FAILED
    recorded = read_release(path.read_text())
    found = differences(recorded, running)
    if found:
        listed = "\n".join(f"  {line}" for line in found)
        print(
            f"verify-release {args.stack}: {path.name} does not record what the stack runs:\n{listed}\n"
            f"record it: samokoder-infra record-release {args.stack} --deployed, and commit {path.name}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    print(f"verify-release {args.stack}: {path.name} records release {running.id}, which the stack runs")
    return EXIT_OK
