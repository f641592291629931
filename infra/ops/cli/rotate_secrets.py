"""`rotate-secrets`: mark a stack's generated secrets for rotation at its next `pulumi up`."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from infra.ops.cli.common import EXIT_OK, Commands, add_stack_argument, project_dir
from infra.settings.secrets import SECRET_GROUPS


def register(commands: Commands) -> None:
    rotate = commands.add_parser(
        "rotate-secrets",
        help="mark a stack's generated secrets for rotation at its next `pulumi up`",
        description=(
            "Record the current time as the rotation stamp of each secret group of STACK "
            f"(samokoder:rotation.<group>; groups: {', '.join(SECRET_GROUPS)}). The next `pulumi up` "
            "generates new values for that group, adds a Lockbox version, and External Secrets "
            "refreshes the Kubernetes Secrets within an hour. Operator-provided values (API keys, "
            "tokens) are rotated by setting them anew with `pulumi config set --secret`. Needs the "
            "Pulumi CLI and the state backend."
        ),
    )
    add_stack_argument(rotate)
    rotate.add_argument(
        "--only",
        action="append",
        choices=SECRET_GROUPS,
        metavar="NAME",
        help=f"rotate only this group ({', '.join(SECRET_GROUPS)}); repeatable (default: all)",
    )
    rotate.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from infra.ops.automation.rotation import mark_for_rotation  # noqa: PLC0415

    groups = sorted(set(args.only or SECRET_GROUPS))
    now = datetime.now(UTC).replace(microsecond=0)
    print(f"rotate-secrets {args.stack}: marking {', '.join(groups)} at {now.isoformat()} ...", flush=True)
    ages = mark_for_rotation(args.stack, project_dir(), groups, now)
    for group in groups:
        rotated = ages.get(group, {}).get("rotated_at") or "unknown"
        print(f"  {group}: last rotated {rotated} ({_days_since(rotated, now)} days ago)")
    print(f"next: pulumi up -s {args.stack} (new values and Lockbox versions); then restart the workloads")
    return EXIT_OK


def _days_since(stamp: str, now: datetime) -> str:
    """Whole days from `stamp` (ISO 8601) to `now`; "?" when the stamp is unknown or unreadable."""
    try:
        then = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return "?"
    if then.utcoffset() is None:
        then = then.replace(tzinfo=UTC)
    return str(max(0, (now - then).days))
