"""`cut-over`: serve the app from the stack's restored database cluster (--to), or from the running one
again (--back), through the stack's settings, Pulumi and External Secrets."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from infra.ops.cli.common import (
    EXIT_OK,
    Commands,
    Failure,
    add_cluster_arguments,
    add_stack_argument,
    project_dir,
    stack_file,
)
from infra.settings import ConfigError

if TYPE_CHECKING:
    from infra.ops.automation.cutover import CutOverPlan

DEFAULT_TIMEOUT_SECONDS = 600


def register(commands: Commands) -> None:
    parser = commands.add_parser(
        "cut-over",
        help="serve the app from the stack's restored database cluster, or (--back) the running one again",
        description=(
            "Point STACK's app at the cluster `restore --apply` created (--to NAME, the stack's "
            "samokoder:restore.into), or back at the running cluster samokoder-db (--back). Without "
            "--apply it checks the choice and says what would change. With --apply it records the choice "
            "in the stack's config (samokoder:cut_over; --back removes it), previews (anything but the app's "
            "Lockbox secret, NetworkPolicies, the restored cluster's Pooler, ScheduledBackup and PodMonitor "
            "and the database's alert rules and dashboard changing puts the config back and applies "
            "nothing), runs the Pulumi update, has External Secrets "
            "refresh the app's Secret now, restarts the promoted API pods and the worker, checks from a "
            "worker pod which cluster the app's own URL reaches, and runs the smoke check. Needs the Pulumi "
            "CLI, the state backend, cloud credentials, kubectl and KUBECONFIG for the stack's cluster. "
            "See docs/runbooks/database-restore.md."
        ),
    )
    add_stack_argument(parser)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--to",
        metavar="NAME",
        help="the restored cluster to serve the app from: the one samokoder:restore names",
    )
    which.add_argument(
        "--back", action="store_true", help="serve the app from the running cluster (samokoder-db) again"
    )
    parser.add_argument(
        "--apply",
        action="store_true",
        help="do it: config, Pulumi update, Secret refresh, restarts, checks (default: say what changes)",
    )
    add_cluster_arguments(
        parser, DEFAULT_TIMEOUT_SECONDS, "longest wait for the Secret's refresh and each rollout"
    )
    parser.set_defaults(handler=run)


def _served(values: dict[str, object]) -> str:
    from infra.conventions import DATABASE_CLUSTER  # noqa: PLC0415

    chosen = values.get("cut_over")
    to = chosen.get("to") if isinstance(chosen, dict) else None
    return str(to) if to else DATABASE_CLUSTER


def run(args: argparse.Namespace) -> int:
    from infra.ops.automation.cutover import CutOverPlan  # noqa: PLC0415
    from infra.render.secrets.catalog import database_host  # noqa: PLC0415
    from infra.settings.loader import excerpt, load_settings  # noqa: PLC0415
    from infra.settings.source import stack_file_values  # noqa: PLC0415

    project = project_dir()
    values = stack_file_values(stack_file(args.stack, project))
    asked = {k: v for k, v in values.items() if k != "cut_over"}
    if args.to is not None:
        asked["cut_over"] = {"to": args.to}
    try:
        settings = load_settings(args.stack, asked, offline=True)
    except ConfigError as error:
        reasons = [p.reason for p in error.problems if p.path.startswith("samokoder:cut_over")]
        # Anything else wrong with the stack's settings: every problem, each with its file.
        if not reasons or len(reasons) < len(error.problems):
            raise
        raise Failure(f"cut-over: --to {excerpt(args.to)}: {'; '.join(reasons)}") from None
    cluster = settings.database_cluster
    restored = settings.restore.into if settings.restore is not None else None
    plan = CutOverPlan(args.stack, args.to, cluster, database_host(cluster), restored)
    now = _served(values)
    then = (
        " and stays there" if now == cluster else f"; it would be from {cluster} (DATABASE_HOST {plan.host})"
    )
    print(f"cut-over {args.stack}: the app is served from {now} (DATABASE_HOST {database_host(now)}){then}")
    if not args.apply:
        print("nothing applied: run again with --apply (see docs/runbooks/database-restore.md)")
        return EXIT_OK
    _apply(args, plan, settings.identity.domain)
    print(f"cut-over {args.stack}: the app is served from {cluster}, and answers")
    return EXIT_OK


def _apply(args: argparse.Namespace, plan: CutOverPlan, domain: str) -> None:
    from infra.ops.automation.cutover import move_the_app, update  # noqa: PLC0415
    from infra.ops.automation.rehearsal import Kubectl  # noqa: PLC0415
    from infra.ops.releases import smoke  # noqa: PLC0415

    update(plan, project_dir(), on_output=lambda line: print(line, end="", flush=True))
    move_the_app(
        plan,
        Kubectl(args.kubectl),
        smoke=lambda: smoke.smoke_check(smoke.base_url(domain), report=lambda line: print(line, flush=True)),
        progress=lambda line: print(line, flush=True),
        timeout_seconds=args.timeout,
    )
