"""`rollback`: redeploy an earlier release's image digests, and nothing else."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from infra.ops.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    Commands,
    Failure,
    add_stack_argument,
    from_history,
    project_dir,
    smoke_check,
)
from infra.ops.cli.verify_images import registry, require_signed


def register(commands: Commands) -> None:
    rollback = commands.add_parser(
        "rollback",
        help="redeploy an earlier release's image digests, and nothing else",
        description=(
            "Pick the last successful release before the current one (or --to RELEASE, or --steps N "
            "back), check that its digests are still in the registry, that each image is signed and its "
            "SBOM attested by this repository's main.yml on main (cosign, in --source: the registry the "
            "build pushed to, which holds the signatures) and that it expects the "
            "database's migration revision, then set the stack's release to it, preview (refusing if "
            "anything but Deployments would change) and update. A smoke check of /api/health through the "
            "ingress follows. Failure exits non-zero with the stack's release config as before."
        ),
    )
    add_stack_argument(rollback)
    target = rollback.add_mutually_exclusive_group()
    target.add_argument("--to", metavar="RELEASE", help="the release id to go back to")
    target.add_argument("--steps", type=int, default=1, metavar="N", help="go back N releases (default 1)")
    rollback.add_argument(
        "--history", type=Path, metavar="FILE", help="choose from this history JSON (with --dry-run)"
    )
    rollback.add_argument(
        "--dry-run", action="store_true", help="say what would be rolled back, change nothing"
    )
    rollback.add_argument(
        "--source",
        type=registry,
        metavar="REGISTRY",
        help=(
            "the registry the build pushed and signed the images in, cr.yandex/<id> (default: the stack's "
            "own, which is that registry for staging; prod's copies carry no signature)"
        ),
    )
    rollback.add_argument(
        "--source-key-file",
        type=Path,
        metavar="FILE",
        help="a service account key that can pull from --source (default: the environment's token source)",
    )
    rollback.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    rollback.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from infra.ops.releases.history import RollbackRefused, choose_target  # noqa: PLC0415

    if args.history is not None and not args.dry_run:
        raise Failure("rollback: --history is for --dry-run; a real rollback reads the stack's own history")
    print(f"rollback {args.stack}: reading the update history ...", flush=True)
    try:
        # A RollbackRefused is a ValueError: not taken for an update of the wrong shape.
        plan = from_history(
            args,
            lambda history: choose_target(history, to=args.to, steps=args.steps),
            (KeyError, TypeError, AttributeError),
        )
    except RollbackRefused as error:
        raise Failure(f"rollback: refused: {error}") from None
    services = ", ".join(plan.changed_services()) or "none"
    print(
        f"rollback {args.stack}: {plan.current.id} (update {plan.current.version}) -> {plan.target.id} "
        f"(update {plan.target.version}); images of: {services}"
    )
    if args.dry_run:
        print("dry run: nothing changed")
        return EXIT_OK
    return _apply(args, plan)


def _apply(args: argparse.Namespace, plan: Any) -> int:
    from infra.ops.automation.rollback import roll_back  # noqa: PLC0415
    from infra.ops.automation.stack import select  # noqa: PLC0415
    from infra.ops.releases.registry import RegistryError, missing_images  # noqa: PLC0415
    from infra.providers.yandex.connection import Connection, ConnectionError_  # noqa: PLC0415

    # The token source of the kubeconfig's plugin and Lockbox: a key file, a token or the VM.
    try:
        token = Connection("environment").iam_token().token
    except ConnectionError_ as error:
        raise Failure(f"rollback: no IAM token to check the registry with: {error}", EXIT_FAILED) from None
    try:
        registry_id = select(args.stack, project_dir()).outputs()["registry_id"].value
        refs = {s: f"cr.yandex/{registry_id}/{s}@{d}" for s, d in plan.target.images.items()}
        missing = missing_images(refs, token)
    except RegistryError as error:
        raise Failure(f"rollback: {error}", EXIT_FAILED) from None
    if missing:
        raise Failure(f"rollback: refused: the images of {', '.join(missing)} are no longer in the registry")
    # The deploy's own check, on the digests this update will run, before anything is set or applied.
    require_signed(
        "rollback", args.source or f"cr.yandex/{registry_id}", plan.target.images, args.source_key_file
    )
    if not args.yes and input(f"roll {args.stack} back to {plan.target.id}? [y/N] ").strip().lower() != "y":
        print("rollback: not confirmed; nothing changed")
        return EXIT_FAILED
    roll_back(args.stack, project_dir(), plan, on_output=lambda line: print(line, end="", flush=True))
    return smoke_check(args.stack)
