"""`restore-drill`: restore the newest backup into a throwaway copy, check it, record the outcome."""

from __future__ import annotations

import argparse
import secrets

from infra.ops.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    Commands,
    Failure,
    add_cluster_arguments,
    add_stack_argument,
    stack_settings,
)

DEFAULT_TIMEOUT_SECONDS = 5400


def register(commands: Commands) -> None:
    drill = commands.add_parser(
        "restore-drill",
        help="restore the newest backup into a throwaway copy, check it and record the outcome",
        description=(
            "Restore a throwaway copy of STACK's database from its object store (CloudNativePG "
            "recovery to the latest archived point, as the migration rehearsal makes it), time it "
            "from creation to Ready, run a Job that checks the copy holds every table the app's "
            "Alembic heads leave and rows wherever the running database holds rows, push the "
            "outcome and the restore's time to the stack's Pushgateway (the RestoreDrillStale alert "
            "reads them), then delete the copy. Exit 0 when the drill passed, 1 when it failed or "
            "its outcome could not be pushed, 2 on bad input. Needs kubectl and KUBECONFIG for the "
            "stack's cluster. See docs/runbooks/restore-drill.md."
        ),
    )
    add_stack_argument(drill)
    add_cluster_arguments(
        drill, DEFAULT_TIMEOUT_SECONDS, "give up on the restore and the check after this long"
    )
    drill.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from infra.conventions import Naming  # noqa: PLC0415
    from infra.ops.automation.drill import DrillError, restore_drill  # noqa: PLC0415
    from infra.ops.automation.rehearsal import Kubectl  # noqa: PLC0415
    from infra.render.database import plan  # noqa: PLC0415
    from infra.render.workloads import drill  # noqa: PLC0415

    settings = stack_settings(args.stack)
    naming = Naming(args.stack)
    run = secrets.token_hex(3)
    copy = [*drill.drill_policies(naming, run), drill.drill_cluster(settings, run)]
    try:
        outcome = restore_drill(
            Kubectl(args.kubectl),
            args.stack,
            run,
            copy,
            lambda nonempty: drill.check_job(naming, run, nonempty),
            served=settings.database_cluster,
            archive=plan.drill_group(settings),
            timeout_seconds=args.timeout,
            progress=lambda line: print(line, flush=True),
        )
    except DrillError as error:
        raise Failure(f"restore-drill: {error}", EXIT_FAILED) from None
    print(outcome.report.strip())
    restored = (
        "never ready" if outcome.restore_seconds is None else f"ready in {outcome.restore_seconds:.0f} s"
    )
    verdict = "passed" if outcome.passed else "FAILED"
    print(f"restore-drill {args.stack}: {verdict} (the copy was {restored})")
    return EXIT_OK if outcome.passed else EXIT_FAILED
