"""`annotate`: mark a step of a canary release in the stack's Grafana, on the dashboards showing releases."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime

from infra.ops.cli.common import EXIT_FAILED, EXIT_INVALID, EXIT_OK, add_stack_argument

TOKEN_VARIABLE = "GRAFANA_TOKEN"
# The steps of infra/ops/canary/annotations.py (Step), spelled here so that building the parser
# imports none of the renderers that module reads its tags from.
STEPS = ("canary", "weight", "judged", "promoted", "aborted")
# The steps that say where the canary's weight stands, and the one that says how it was judged.
WEIGHED = ("canary", "weight")
JUDGED = "judged"


def _weight(text: str) -> int:
    try:
        weight = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole percentage") from None
    if not 1 <= weight <= 100:
        raise argparse.ArgumentTypeError(f"{weight} is not a share of the requests: 1 to 100 percent")
    return weight


def _release_id(text: str) -> str:
    from pydantic import TypeAdapter, ValidationError  # noqa: PLC0415

    from infra.settings.release import ReleaseId  # noqa: PLC0415

    try:
        return TypeAdapter(ReleaseId).validate_python(text)
    except ValidationError:
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is not a release id (letters, digits, '.', '_', '-'; at most 63)"
        ) from None


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    annotate = commands.add_parser(
        "annotate",
        help="mark a step of a canary release in the stack's Grafana",
        description=(
            "POST an annotation to Grafana's HTTP API (/api/annotations) for a step of a release on "
            "STACK, tagged with the project, the stack, 'release', 'release:ID' and the step, so that the "
            "golden-signals dashboard shows it on every panel. The token of a Grafana service account "
            f"allowed to create annotations (the Editor role) is read from {TOKEN_VARIABLE}. Exit 0 when "
            "Grafana added it, 1 when Grafana refused or could not be reached, 2 for bad input."
        ),
    )
    add_stack_argument(annotate)
    annotate.add_argument(
        "--grafana",
        required=True,
        metavar="URL",
        help="the stack's Grafana, e.g. https://grafana.example.org (its sub-path too, if it has one)",
    )
    annotate.add_argument(
        "--release", required=True, metavar="ID", type=_release_id, help="the release id the step is of"
    )
    annotate.add_argument(
        "--step",
        required=True,
        choices=STEPS,
        help="canary: the canary started; weight: its share changed; judged: a window was judged; "
        "promoted, aborted: the release ended so",
    )
    annotate.add_argument(
        "--weight",
        type=_weight,
        metavar="N",
        help="the canary's share of the API's requests after the step, in percent "
        f"(required with --step {' and '.join(WEIGHED)})",
    )
    annotate.add_argument(
        "--verdict",
        metavar="TEXT",
        help=f"the judge's verdict, or why the release was aborted (required with --step {JUDGED})",
    )
    annotate.add_argument("--text", metavar="TEXT", help="more words, appended to the annotation's text")
    annotate.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from infra.ops.canary.annotations import GrafanaError, ReleaseStep, annotate  # noqa: PLC0415

    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        print(
            f"annotate: {TOKEN_VARIABLE} is not set: export the token of a Grafana service account "
            "allowed to create annotations (the Editor role)",
            file=sys.stderr,
        )
        return EXIT_INVALID
    if args.step in WEIGHED and args.weight is None:
        print(f"annotate: --step {args.step} needs --weight N (the canary's share)", file=sys.stderr)
        return EXIT_INVALID
    if args.step == JUDGED and not args.verdict:
        print(f"annotate: --step {JUDGED} needs --verdict TEXT", file=sys.stderr)
        return EXIT_INVALID
    step = ReleaseStep(args.stack, args.release, args.step, args.weight, args.verdict, args.text)
    try:
        annotation = annotate(args.grafana, token, step, datetime.now(UTC))
    except ValueError as error:
        print(f"annotate: {error}", file=sys.stderr)
        return EXIT_INVALID
    except GrafanaError as error:
        print(f"annotate: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"annotate: annotation {annotation} added: {step.text()} (tags: {', '.join(step.tags())})")
    return EXIT_OK
