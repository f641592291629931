"""`canary run`: the recorded canary through the weights, judged from Prometheus, promoted or aborted."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from infra.ops.cli.canary.shared import echo, settings_of, stable_record
from infra.ops.cli.common import EXIT_FAILED, EXIT_INVALID, EXIT_OK, add_stack_argument, project_dir
from infra.ops.cli.verify import prometheus_url

if TYPE_CHECKING:
    from infra.ops.canary.pipeline import Hooks, Judgement, Moment, Outcome
    from infra.ops.canary.transitions import StepKind
    from infra.ops.releases.record import Recorded
    from infra.settings.stack import StackSettings


def grafana_url(text: str) -> str:
    """A Grafana base URL, checked before the release starts rather than at its first annotation."""
    from infra.ops.canary.annotations import annotations_url  # noqa: PLC0415

    try:
        annotations_url(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text.rstrip("/")


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = actions.add_parser(
        "run",
        help="take the recorded canary through the weights, judged, then promote or abort it",
        description=(
            "Apply the canary recorded by `canary start` (its migration, then its pods at the first weight), "
            "then for each weight: wait canary.analysis_minutes, judge (as `verify`), move on; an "
            "inconclusive window is judged again up to canary.inconclusive_retries times. Then promote; "
            "a bad verdict, too little traffic or a failed step aborts. Each step's preview must keep to "
            "the step's blast radius (`canary plan`). Needs the pulumi CLI and the state backend. With "
            "--grafana each step is annotated (token in GRAFANA_TOKEN). Exit 0 promoted, 1 aborted, 2 "
            "bad input."
        ),
    )
    add_stack_argument(run)
    run.add_argument(
        "--prometheus",
        required=True,
        type=prometheus_url,
        metavar="URL",
        help="Prometheus's HTTP API, e.g. http://127.0.0.1:9090 through a port-forward",
    )
    run.add_argument(
        "--grafana",
        type=grafana_url,
        metavar="URL",
        help="annotate each step in this Grafana (a service account token in GRAFANA_TOKEN)",
    )
    run.add_argument(
        "--outcome",
        type=Path,
        metavar="FILE",
        help="write the outcome (promoted or why not, every judgement) as JSON here "
        "(default: build/STACK/release-outcome.json)",
    )
    run.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from infra.ops.automation.stack import OperationError, require_cli  # noqa: PLC0415
    from infra.ops.canary.pipeline import run_release  # noqa: PLC0415
    from infra.ops.releases.record import RecordError  # noqa: PLC0415
    from infra.settings.loader import ConfigError  # noqa: PLC0415

    try:
        settings = settings_of(args.stack)
        _, stable = stable_record(args.stack)
        if stable.canary is None:
            raise RecordError("no canary is recorded: `canary start` records one")
        hooks = _hooks(args, settings)
        # Checked before the first step: without the CLI nothing can be applied, nor aborted.
        require_cli()
    except (ConfigError, RecordError, ValueError, OperationError) as error:
        print(f"canary run: {error}", file=sys.stderr)
        return EXIT_INVALID
    outcome = run_release(stable, settings.canary, hooks)
    _report(args, outcome)
    return EXIT_OK if outcome.promoted else EXIT_FAILED


def _report(args: argparse.Namespace, outcome: Outcome) -> None:
    result = {
        "stack": args.stack,
        "promoted": outcome.promoted,
        "reason": outcome.reason,
        "release": outcome.record.id,
        "judgements": outcome.judgements,
    }
    path = args.outcome or project_dir() / "build" / args.stack / "release-outcome.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    word = "promoted" if outcome.promoted else "ABORTED"
    print(f"canary run {args.stack}: {word}: {outcome.reason} (written to {path})")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        lines = [f"### {args.stack}: release {word}", "", outcome.reason, ""]
        lines += [f"- {judgement}" for judgement in outcome.judgements]
        with open(summary, "a", encoding="utf-8") as file:
            file.write("\n".join(lines) + "\n")


def _hooks(args: argparse.Namespace, settings: StackSettings) -> Hooks:
    from infra.ops.automation.canary import apply_step  # noqa: PLC0415
    from infra.ops.canary.pipeline import Hooks  # noqa: PLC0415

    token = os.environ.get("GRAFANA_TOKEN", "")
    if args.grafana and not token:
        raise ValueError("--grafana needs a service account token in GRAFANA_TOKEN")

    def apply(kind: StepKind, before: Recorded, after: Recorded) -> None:
        apply_step(args.stack, project_dir(), kind, before, after, on_output=echo)

    def note(moment: Moment, record: Recorded, text: str) -> None:
        print(f"[{moment}] {text}", flush=True)
        if args.grafana:
            _annotate(args.grafana, token, args.stack, moment, record, text=text)

    return Hooks(apply=apply, judge=_judge(args.prometheus, settings), wait=_wait, note=note)


def _judge(url: str, settings: StackSettings) -> Callable[[int], Judgement]:
    from infra.ops.canary.evaluate import evaluate  # noqa: PLC0415
    from infra.ops.canary.pipeline import Judged  # noqa: PLC0415
    from infra.ops.canary.prometheus import Prometheus, PrometheusError  # noqa: PLC0415

    prometheus = Prometheus(url)

    def judge(minutes: int) -> Judgement:
        try:
            verdict = evaluate(prometheus, settings, f"{minutes}m", datetime.now(UTC))
        except PrometheusError as error:
            # Not a verdict on the canary: judged again, and aborted if it lasts.
            return Judged("inconclusive", f"Prometheus at {url} did not answer: {error}")
        for check in verdict.checks:
            print(check.line())
        print(verdict.line(), flush=True)
        return verdict

    return judge


def _annotate(grafana: str, token: str, stack: str, moment: Moment, record: Recorded, *, text: str) -> None:
    """A step on the dashboards; a Grafana that does not take it does not stop the release."""
    from infra.ops.canary.annotations import ReleaseStep, annotate  # noqa: PLC0415

    canary = record.canary
    release = canary.id if canary is not None else record.id
    weight = canary.weight if canary is not None and moment in ("canary", "weight", "judged") else None
    step = ReleaseStep(stack, release, moment, weight=weight, verdict=None if moment == "canary" else text)
    try:
        annotate(grafana, token, step, datetime.now(UTC))
    # Annotations are for people: whatever goes wrong with one, the release goes on.
    except Exception as error:
        print(f"warning: the {moment} annotation was not written: {error}", file=sys.stderr)


def _wait(seconds: float, what: str) -> None:
    """Sleep, saying each minute how long is left: a step's window is minutes long."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        print(f"{what}: {left / 60:.1f} min left", flush=True)
        time.sleep(min(60.0, left))
