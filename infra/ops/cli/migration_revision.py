"""`migration-revision`: the migration revision a release of the app carries (what the deploy records)."""

from __future__ import annotations

import argparse
from pathlib import Path

from infra.ops.cli.common import EXIT_OK, Commands, Failure


def register(commands: Commands) -> None:
    parser = commands.add_parser(
        "migration-revision",
        help="print the migration revision of the app's Alembic scripts (for the release)",
        description=(
            "Read the Alembic scripts under VERSIONS (the app's alembic/versions), find the heads and "
            "print the release's migration_revision: the head itself when there is one hex head, "
            "else a 12-digit fingerprint of the sorted heads (infra/ops/releases/migrations.py). "
            "--heads prints the heads instead, one a line."
        ),
    )
    parser.add_argument(
        "versions", type=Path, metavar="VERSIONS", help="the app's alembic/versions directory"
    )
    parser.add_argument("--heads", action="store_true", help="print the heads, one a line")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from infra.ops.releases.migrations import MigrationsError, heads, migration_revision  # noqa: PLC0415

    try:
        if not args.versions.is_dir():
            raise MigrationsError(f"{args.versions}: not a directory")
        found = heads(args.versions)
        print("\n".join(found) if args.heads else migration_revision(found))
    except (MigrationsError, SyntaxError) as error:
        raise Failure(f"migration-revision: {error}") from None
    return EXIT_OK
