"""`smoke`: the whole path of a release through the stack's public address, one probe per part."""

from __future__ import annotations

import argparse
import math

from infra.ops.cli.common import Commands, add_stack_argument, smoke_check

MAX_ATTEMPTS = 1000
MAX_INTERVAL_SECONDS = 600.0


def _attempts(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_ATTEMPTS:
        shown = text if len(text) <= 20 else f"{text[:17]}..."
        raise argparse.ArgumentTypeError(
            f"{shown!r} is not a whole number of attempts from 1 to {MAX_ATTEMPTS}"
        )
    return int(text)


def _interval(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds <= MAX_INTERVAL_SECONDS:  # NaN and infinities fail this too
        shown = text if len(text) <= 20 else f"{text[:17]}..."
        raise argparse.ArgumentTypeError(
            f"{shown!r} is not a number of seconds from 0 to {MAX_INTERVAL_SECONDS:g}"
        )
    return seconds


def register(commands: Commands) -> None:
    smoke = commands.add_parser(
        "smoke",
        help="check a release's whole path through the stack's public address",
        description=(
            "Through https://<domain> of STACK (the domain from Pulumi.STACK.yaml), one probe each: the "
            "API's /api/health, Redis and the database as the API reports them, the site's page and one "
            "hashed asset it names, and a websocket upgrade to a session's path. Every probe runs once "
            "per attempt until one attempt passes them all, up to --attempts; a probe the app cannot "
            "answer honestly is shown as not checked, with the reason. Exit 0 when healthy, 1 naming "
            "each failed probe, its URL and what was wrong. Run after every update."
        ),
    )
    add_stack_argument(smoke)
    smoke.add_argument("--attempts", type=_attempts, default=10, help="tries (default 10), at least 1")
    smoke.add_argument(
        "--interval", type=_interval, default=6.0, metavar="SECONDS", help="between tries (default 6)"
    )
    smoke.set_defaults(handler=lambda args: smoke_check(args.stack, args.attempts, args.interval))
