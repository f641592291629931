"""`canary abort`: the canary taken away, from the stack file and, with --apply, from the stack."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from infra.ops.cli.canary.shared import echo, stable_record
from infra.ops.cli.common import EXIT_FAILED, EXIT_INVALID, EXIT_OK, add_stack_argument, project_dir

if TYPE_CHECKING:
    from infra.ops.releases.record import Recorded


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    abort = actions.add_parser(
        "abort",
        help="remove the canary: from Pulumi.STACK.yaml, and with --apply from the stack",
        description=(
            "Remove the canary from Pulumi.STACK.yaml's release; stable stays as recorded. With --apply, "
            "also update the stack (a preview held to the abort's rules first: only the canary's objects "
            "may go). With --deployed, the canary is the one the stack's newest update ran, for when the "
            "stack file does not hold it (a run whose runner was lost: only its final record reaches "
            "main). Nothing to abort is not an error."
        ),
    )
    add_stack_argument(abort)
    abort.add_argument("--apply", action="store_true", help="update the stack too (needs the pulumi CLI)")
    abort.add_argument(
        "--deployed", action="store_true", help="abort the canary of the stack's newest update"
    )
    abort.add_argument("--history", type=Path, metavar="FILE", help="with --deployed: this history JSON")
    abort.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from infra.ops.automation.stack import OperationError  # noqa: PLC0415
    from infra.ops.canary import transitions  # noqa: PLC0415
    from infra.ops.cli.common import HistoryError  # noqa: PLC0415
    from infra.ops.releases.record import RecordError, write_release  # noqa: PLC0415

    if args.history is not None and not args.deployed:
        print("canary abort: --history goes with --deployed", file=sys.stderr)
        return EXIT_INVALID
    try:
        path, record = _to_abort(args)
    except (RecordError, HistoryError) as error:
        print(f"canary abort: {error}", file=sys.stderr)
        return EXIT_INVALID
    except OperationError as error:
        print(f"canary abort: {error}", file=sys.stderr)
        return EXIT_FAILED
    if record.canary is None:
        print(f"canary abort {args.stack}: no canary is recorded: nothing to abort")
        return EXIT_OK
    if args.apply:
        return _apply_abort(args.stack, record)
    path.write_text(write_release(path.read_text(), transitions.abort(record)))
    print(f"{path.name}: the canary is removed; `pulumi up` removes its objects, release {record.id} stays")
    return EXIT_OK


def _to_abort(args: argparse.Namespace) -> tuple[Path, Recorded]:
    """The stack file, and the record whose canary goes: the file's, or the newest update's."""
    from infra.ops.cli.common import update_history  # noqa: PLC0415
    from infra.ops.releases.history import releases  # noqa: PLC0415
    from infra.ops.releases.record import Recorded, RecordError  # noqa: PLC0415

    path, record = stable_record(args.stack)
    if not args.deployed:
        return path, record
    newest = releases(update_history(args))
    if not newest:
        raise RecordError("the stack's history has no update that deployed a release by digest")
    return path, Recorded.of(newest[0])


def _apply_abort(stack: str, record: Recorded) -> int:
    from infra.ops.automation.canary import apply_step  # noqa: PLC0415
    from infra.ops.automation.stack import OperationError, require_cli  # noqa: PLC0415
    from infra.ops.canary import transitions  # noqa: PLC0415
    from infra.ops.canary.pipeline import StepFailed  # noqa: PLC0415

    try:
        require_cli()
    except OperationError as error:
        print(f"canary abort: {error}", file=sys.stderr)
        return EXIT_INVALID
    try:
        apply_step(stack, project_dir(), "abort", record, transitions.abort(record), on_output=echo)
    except StepFailed as error:
        print(f"canary abort: {error}\nrun `samokoder-infra rollback {stack}`", file=sys.stderr)
        return EXIT_FAILED
    assert record.canary is not None
    print(f"canary abort {stack}: the canary {record.canary.id} is gone; release {record.id} serves")
    return EXIT_OK
