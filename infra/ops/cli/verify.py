"""`verify`: judge the API's canary against stable over a window, from ingress-nginx's raw request metrics.

Exit 0: promote; 1: roll back; 3: inconclusive (infra/ops/canary/judge.py);
2: bad input, an unknown stack or a Prometheus that could not answer.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import urllib.parse
from datetime import UTC, datetime

from infra.ops.cli.common import EXIT_INVALID, add_stack_argument, project_dir

# Prometheus's durations (model.ParseDuration): units from years down to milliseconds, each at most once.
_DURATION = re.compile(r"(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?")
_UNIT_SECONDS = (365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001)


def duration_seconds(text: str) -> float:
    """The seconds of a Prometheus duration (10m, 1h30m, 90s); ValueError if it is not one, or zero."""
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        raise ValueError(f"{text!r} is not a Prometheus duration (e.g. 10m, 1h, 90s)")
    seconds = sum(int(n) * unit for n, unit in zip(match.groups(), _UNIT_SECONDS, strict=True) if n)
    if seconds <= 0:
        raise ValueError(f"{text!r} is an empty window")
    return seconds


def window(text: str) -> str:
    try:
        duration_seconds(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def evaluation_time(text: str) -> datetime:
    """An RFC 3339 time with its offset (2026-11-20T14:00:00Z, ...+03:00)."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an RFC 3339 time (e.g. 2026-11-20T14:00:00Z)"
        ) from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no UTC offset: say which time zone (2026-11-20T14:00:00Z, or +03:00)"
        )
    return at


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0")
    return value


def prometheus_url(text: str) -> str:
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a Prometheus address: http(s)://HOST[:PORT][/PREFIX]"
        )
    return text.rstrip("/")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    verify = commands.add_parser(
        "verify",
        help="judge the API's canary against stable: promote (0), roll back (1) or inconclusive (3)",
        description=(
            "Compare the API's canary (the requests ingress-nginx routed to samokoder-api-canary, told "
            "apart by its 'canary' label) with stable over --window ending at --at, from ingress-nginx's "
            "raw request metrics on the stack's host: the canary's request count against "
            "canary.min_requests; its 5xx against canary.max_error_percent and stable's share plus "
            "canary.max_error_increase_points, over a bound only beyond chance (a one-sided binomial "
            "test: P < 0.01 of as many 5xx at the bound's share; each check prints the counts, the 5xx "
            "expected and P); its P95 against the latency SLO's threshold and stable's times "
            "canary.max_latency_ratio, the latter read at the next bucket bound (the histogram's "
            "buckets are 2 to 2.5 times apart); and the stack's paging burn-rate alerts, evaluated from "
            "the raw series (no recording rules, no "
            "ALERTS). Exit 0: promote; 1: roll back; 3: inconclusive (too few requests, both sides over "
            "a bound with the canary within stable's allowance, or the stack burning its error budget "
            "while the canary is fine); 2: bad input or Prometheus could not answer."
        ),
    )
    add_stack_argument(verify)
    verify.add_argument(
        "--prometheus",
        required=True,
        type=prometheus_url,
        metavar="URL",
        help="the Prometheus holding ingress-nginx's request metrics, e.g. http://127.0.0.1:9090",
    )
    verify.add_argument(
        "--at",
        type=evaluation_time,
        metavar="RFC3339",
        help="the end of the window, with its UTC offset, e.g. 2026-11-20T14:00:00Z (default: now)",
    )
    verify.add_argument(
        "--window",
        type=window,
        metavar="DURATION",
        help="how far back from --at to judge, a Prometheus duration such as 10m, 1h, 90s "
        "(default: the stack's canary.analysis_minutes)",
    )
    verify.add_argument(
        "--timeout",
        type=seconds,
        default=10.0,
        metavar="SECONDS",
        help="how long to wait for each answer of Prometheus (default 10)",
    )
    verify.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from infra.ops.canary.evaluate import evaluate  # noqa: PLC0415
    from infra.ops.canary.prometheus import Prometheus, PrometheusError  # noqa: PLC0415
    from infra.ops.canary.queries import api_matchers, side_matcher  # noqa: PLC0415
    from infra.settings.loader import ConfigError, load_settings  # noqa: PLC0415
    from infra.settings.source import stack_file_values  # noqa: PLC0415

    try:
        values = stack_file_values(project_dir() / f"Pulumi.{args.stack}.yaml")
        settings = load_settings(args.stack, values, offline=True)
    except ConfigError as error:
        print(f"verify: {args.stack}: {error}", file=sys.stderr)
        return EXIT_INVALID
    span = args.window or f"{settings.canary.analysis_minutes}m"
    at: datetime = args.at or datetime.now(UTC)
    domain = settings.identity.domain
    canary, stable = side_matcher("canary"), side_matcher("stable")
    print(
        f"verify {args.stack}: the canary ({canary}) against stable ({stable}), "
        f"in the requests of {', '.join(api_matchers(domain))}"
    )
    when = at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    print(f"window {span} ({duration_seconds(span):g} s) ending {when}, from {args.prometheus}", flush=True)
    try:
        verdict = evaluate(Prometheus(args.prometheus, timeout=args.timeout), settings, span, at)
    except PrometheusError as error:
        print(f"verify: --prometheus {args.prometheus}: {error}", file=sys.stderr)
        return EXIT_INVALID
    for check in verdict.checks:
        print(check.line())
    print(verdict.line())
    return verdict.exit_code
