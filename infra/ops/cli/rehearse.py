"""`rehearse-migration`: run a release's migration on a fresh copy of the stack's data first."""

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
from infra.ops.releases.migrations import HEX

DEFAULT_TIMEOUT_SECONDS = 3600


def register(commands: Commands) -> None:
    rehearse = commands.add_parser(
        "rehearse-migration",
        help="run a release's migration up, down and up on a copy restored from the backups",
        description=(
            "When --migration differs from the revision Pulumi.STACK.yaml records: restore a throwaway "
            "copy of STACK's database from its object store (CloudNativePG recovery, the latest "
            "archived point), run --image's Alembic upgrade heads, downgrade to the copy's revisions "
            "and upgrade again, judge the upgrade's DDL (as the server logged it) with squawk for "
            "what breaks the running release, then delete the copy. Exit 0 when it passed or there "
            "is no migration, 1 when it failed (the step, the SQL and the server's message are "
            "printed), 2 on bad input. Needs kubectl and KUBECONFIG for the stack's cluster."
        ),
    )
    add_stack_argument(rehearse)
    rehearse.add_argument(
        "--image", required=True, type=_by_digest, help="the release's api image, by digest"
    )
    rehearse.add_argument(
        "--migration", required=True, type=_revision, help="the release's migration revision"
    )
    add_cluster_arguments(rehearse, DEFAULT_TIMEOUT_SECONDS, "give up after this long")
    rehearse.set_defaults(handler=run)


def _by_digest(text: str) -> str:
    if "@sha256:" not in text:
        raise argparse.ArgumentTypeError(f"{text!r} is not an image by digest (NAME@sha256:...)")
    return text


def _revision(text: str) -> str:
    if not HEX.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a revision: 6 to 12 lower-case hex digits, as `migration-revision` prints"
        )
    return text


def run(args: argparse.Namespace) -> int:
    from infra.conventions import Naming  # noqa: PLC0415
    from infra.ops.automation.rehearsal import Kubectl, RehearsalError, rehearse  # noqa: PLC0415
    from infra.render.database.plan import POSTGRES_IMAGE  # noqa: PLC0415
    from infra.render.workloads.rehearsal import (  # noqa: PLC0415
        rehearsal_cluster,
        rehearsal_job,
        rehearsal_policies,
    )

    settings = stack_settings(args.stack)
    running = settings.release.migration_revision
    if args.migration == running:
        print(f"rehearse-migration {args.stack}: the release keeps revision {running}: nothing to rehearse")
        return EXIT_OK
    naming = Naming(args.stack)
    run = secrets.token_hex(3)
    objects = [
        *rehearsal_policies(naming, run),
        rehearsal_cluster(settings, revision=args.migration, run=run),
        rehearsal_job(naming, args.migration, run, args.image),
    ]
    try:
        verdict = rehearse(
            Kubectl(args.kubectl),
            run,
            objects,
            timeout_seconds=args.timeout,
            progress=lambda line: print(line, flush=True),
            # The copy's server: the image's version (plan.POSTGRES_IMAGE), for squawk's rules.
            pg_version=POSTGRES_IMAGE.rsplit(":", 1)[1].split("-", 1)[0],
        )
    except RehearsalError as error:
        raise Failure(f"rehearse-migration: {error}", EXIT_FAILED) from None
    print(verdict.report())
    return EXIT_OK if verdict.passed else EXIT_FAILED
