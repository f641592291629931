"""`restore`: render (or with --apply create) a new database cluster restored from the backups."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from infra.ops.cli.common import (
    EXIT_OK,
    Commands,
    Failure,
    add_stack_argument,
    project_dir,
    stack_file,
    stack_settings,
)
from infra.settings import ConfigError


def register(commands: Commands) -> None:
    restore = commands.add_parser(
        "restore",
        help="render (or with --apply create) a new database cluster restored from the backups",
        description=(
            "Render a new CloudNativePG cluster for STACK bootstrapped from the object store's base "
            "backups and WAL: to --target-time (point in time) or to the latest archived point. The "
            "running cluster is never touched. Writes build/STACK/restore/NAME.yaml; with --apply it "
            "records the request in the stack's config (samokoder:restore) and runs a Pulumi update "
            "targeted at the new cluster alone. See docs/runbooks/database-restore.md."
        ),
    )
    add_stack_argument(restore)
    restore.add_argument(
        "--target-time",
        type=_timestamp,
        default=None,
        metavar="ISO8601",
        help="recover up to this moment, with its UTC offset, e.g. 2026-11-26T09:30:00+03:00 "
        "(default: the latest archived point)",
    )
    restore.add_argument(
        "--into",
        default=None,
        metavar="NAME",
        help="name of the new cluster (default: samokoder-db-restore-<YYYYMMDD-HHMM>)",
    )
    restore.add_argument(
        "--apply",
        action="store_true",
        help="create it through Pulumi (needs the CLI, the state backend and cloud credentials)",
    )
    restore.set_defaults(handler=run)


def _timestamp(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 time: {text!r} (e.g. 2026-11-26T09:30:00+03:00)"
        ) from None


def _not_while_cut_over(stack: str, project: Path) -> None:
    """A new request replaces the recorded one, whose cluster the app may be served from."""
    from infra.settings.source import stack_file_values  # noqa: PLC0415

    served = stack_file_values(stack_file(stack, project)).get("cut_over")
    if isinstance(served, dict) and served.get("to"):
        raise Failure(
            f"restore: {stack} is served from the restored cluster {served['to']!r} (samokoder:cut_over): "
            f"a new restore would replace it; cut back first (samokoder-infra cut-over {stack} --back)"
        )


def run(args: argparse.Namespace) -> int:
    from infra.render.database.restore import RestoreError, plan_restore  # noqa: PLC0415
    from infra.render.monitoring.render import dump_yaml  # noqa: PLC0415

    project = project_dir()
    try:
        # A restore already recorded in the stack file is what --apply replaces. Rendering needs
        # no secret; `--apply` runs the program, which checks them.
        _not_while_cut_over(args.stack, project)
        settings = stack_settings(args.stack, project, without="restore")
        plan = plan_restore(settings, into=args.into, target_time=args.target_time, now=datetime.now(UTC))
    except ConfigError as error:
        raise Failure(str(error)) from None
    except RestoreError as error:
        raise Failure(f"restore: {error}") from None
    out = project / "build" / args.stack / "restore" / f"{plan.request.into}.yaml"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(dump_yaml(plan.manifest))
    point = plan.request.target_time.isoformat() if plan.request.target_time else "the latest archived point"
    print(
        f"restore {args.stack}: cluster {plan.request.into} from the archive "
        f"{settings.database.server_name}, up to {point}"
        f"\nwrote {out}"
    )
    if not args.apply:
        print("nothing applied: run again with --apply to create it (see docs/runbooks/database-restore.md)")
        return EXIT_OK
    from infra.ops.automation.restore import apply_restore  # noqa: PLC0415

    apply_restore(plan, project, on_output=lambda line: print(line, end="", flush=True))
    print(
        f"restore {args.stack}: {plan.request.into} created; watch it with "
        f"'kubectl cnpg status {plan.request.into} -n samokoder'"
    )
    return EXIT_OK
