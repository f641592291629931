"""`app-commit`: the app repository and commit the app contract was read at (what a release is built from)."""

from __future__ import annotations

import argparse

from infra.app_contract import APP_COMMIT, APP_REPOSITORY
from infra.ops.cli.common import EXIT_OK, Commands


def register(commands: Commands) -> None:
    parser = commands.add_parser(
        "app-commit",
        help="print the app repository and commit the app contract was read at",
        description=(
            "Print `repository=OWNER/NAME` and `commit=<40 hex>` from infra/app_contract.py, one a line "
            "(what $GITHUB_OUTPUT takes): the build checks out exactly this commit, never a branch, so "
            "the images run what the contract describes."
        ),
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    print(f"repository={APP_REPOSITORY}\ncommit={APP_COMMIT}")
    return EXIT_OK
