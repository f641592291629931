"""`scan-verdict`: judge the release's Trivy reports against a stack's threshold and the allow-list."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from infra.ops.cli.common import (
    EXIT_FAILED,
    EXIT_INVALID,
    EXIT_OK,
    Commands,
    add_stack_argument,
    project_dir,
    stack_settings,
)


def register(commands: Commands) -> None:
    parser = commands.add_parser(
        "scan-verdict",
        help="judge the images' Trivy reports against the stack's image_scan.fail_on and the allow-list",
        description=(
            "Print each finding of Trivy's JSON REPORTs at or above STACK's image_scan.fail_on that no live "
            "entry of the allow-list accepts; exit 0 when none blocks, 1 when one does, 2 on bad input."
        ),
    )
    add_stack_argument(parser)
    parser.add_argument("reports", nargs="+", type=Path, metavar="REPORT", help="a Trivy JSON report")
    parser.add_argument(
        "--accepted",
        type=Path,
        metavar="FILE",
        help="the allow-list (default: security/accepted-vulnerabilities.yaml)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from infra.ops.releases.scan import ALLOW_LIST, ScanError, judge, read_allow_list, read_report  # noqa: PLC0415

    today = datetime.now(UTC).date()
    allow_list = args.accepted or project_dir() / ALLOW_LIST
    fail_on = stack_settings(args.stack).image_scan.fail_on
    try:
        findings = [finding for report in args.reports for finding in read_report(report)]
        allowed = read_allow_list(allow_list, today)
    except ScanError as error:
        print(f"scan-verdict: {error}", file=sys.stderr)
        return EXIT_INVALID
    verdict = judge(findings, fail_on, allowed, today)
    for index, entry in verdict.expired:
        print(f"expired: {allow_list}: entry {index} ({entry.id}) on {entry.expires}; it accepts nothing")
    for finding in verdict.accepted:
        print(f"accepted: {finding}")
    for finding in verdict.blocking:
        print(f"blocking: {finding}")
    if verdict.blocking:
        print(
            f"scan-verdict: {len(verdict.blocking)} finding(s) at or above {fail_on} block the release on "
            f"{args.stack}: fix them, or accept each in {allow_list} with a reason and an expiry",
            file=sys.stderr,
        )
        return EXIT_FAILED
    print(f"scan-verdict: no finding at or above {fail_on} blocks the release on {args.stack}")
    return EXIT_OK
