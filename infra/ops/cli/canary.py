"""`canary`: a release of the API proves itself beside stable before it replaces it.

``start`` records the next release as the canary (after checking that its
migration leaves the stable release's code working), ``run`` takes it through
the stack's weights with the judge and promotes or aborts it, ``plan`` shows
what each step changes and how long a release takes, ``abort`` records the
canary's removal for a manual `pulumi up`. See infra/ops/canary/pipeline.py.
"""

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

from infra.conventions import SERVICES
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


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    canary = commands.add_parser(
        "canary",
        help="release the API as a canary beside stable: start, run (judge, promote or abort), plan, abort",
        description=(
            "A release's API first runs as samokoder-api-canary beside stable, taking the stack's "
            "canary.weights of the API's requests one step after another, each judged by `verify` over "
            "canary.analysis_minutes; then it is promoted (the worker and the site roll after) or aborted "
            "(stable untouched). Each step is one `pulumi up` of Pulumi.STACK.yaml's release record."
        ),
    )
    actions = canary.add_subparsers(dest="action", required=True, metavar="ACTION")
    _register_start(actions)
    _register_run(actions)
    _register_plan(actions)
    abort = actions.add_parser(
        "abort",
        help="remove the canary: from Pulumi.STACK.yaml, and with --apply from the stack",
        description=(
            "Remove the canary from Pulumi.STACK.yaml's release; stable stays as recorded. With --apply, "
            "also update the stack (a preview held to the abort's rules first: only the canary's objects "
            "may go). With --deployed, the canary is the one the stack's newest update ran, for when the "
            "stack file does not hold it (a run whose runner was lost: only its final record reaches "
            "main). Nothing to abort is not an error."
        ),
    )
    add_stack_argument(abort)
    abort.add_argument("--apply", action="store_true", help="update the stack too (needs the pulumi CLI)")
    abort.add_argument(
        "--deployed", action="store_true", help="abort the canary of the stack's newest update"
    )
    abort.add_argument("--history", type=Path, metavar="FILE", help="with --deployed: this history JSON")
    abort.set_defaults(handler=run_abort)


def _release_arguments(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument(
        "--id", dest="release_id", required=required, metavar="RELEASE", help="the release id"
    )
    parser.add_argument(
        "--migration",
        required=required,
        metavar="REVISION",
        help="its migration revision (`samokoder-infra migration-revision`)",
    )
    for service in SERVICES:
        parser.add_argument(
            f"--{service}", required=required, metavar="DIGEST", help=f"the {service} image's sha256 digest"
        )


def _register_start(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    start = actions.add_parser(
        "start",
        help="record the next release as the canary at the first weight",
        description=(
            "Write the next release into Pulumi.STACK.yaml as release.canary at the stack's first weight. "
            "When it moves the schema, its migration runs before the canary while stable keeps serving, "
            "so the scripts it adds (--versions) must leave stable's code working; a release that drops, "
            "renames or tightens what stable uses cannot canary and needs --without-canary. A release "
            "whose API image is unchanged has nothing to judge and is recorded whole. Prints mode=canary "
            "or mode=whole (also to $GITHUB_OUTPUT when set)."
        ),
    )
    add_stack_argument(start)
    _release_arguments(start, required=True)
    start.add_argument(
        "--versions",
        type=Path,
        metavar="DIR",
        help="the release's Alembic scripts (the app's alembic/versions)",
    )
    start.add_argument(
        "--without-canary",
        action="store_true",
        help="record the release whole: no canary, every pod rolls at the next update (as before canaries)",
    )
    start.set_defaults(handler=run_start)


def _register_run(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    run.set_defaults(handler=run_run)


def _register_plan(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    plan = actions.add_parser(
        "plan",
        help="what each step of a canary release changes, offline, and how long a release takes",
        description=(
            "Synthesize STACK with its recorded release and a next release through each step (start, each "
            "weight, promote, and abort beside), and print what each step adds, updates and removes, held "
            "to the step's rules, and the release's duration with the stack's settings. Without --id ... "
            "a next release with new images and the recorded migration revision is assumed; --migration "
            "alone shows a release that moves the schema."
        ),
    )
    add_stack_argument(plan)
    _release_arguments(plan, required=False)
    plan.set_defaults(handler=run_plan)


def _settings(stack: str) -> StackSettings:
    from infra.settings.loader import load_settings  # noqa: PLC0415
    from infra.settings.source import stack_file_values  # noqa: PLC0415

    return load_settings(stack, stack_file_values(project_dir() / f"Pulumi.{stack}.yaml"), offline=True)


def _stable(stack: str) -> tuple[Path, Recorded]:
    from infra.ops.releases.record import RecordError, read_release  # noqa: PLC0415

    path = project_dir() / f"Pulumi.{stack}.yaml"
    record = read_release(path.read_text())
    if record is None:
        raise RecordError(f"{path.name} records no release by digests to run a canary beside")
    return path, record


def _given(args: argparse.Namespace) -> Recorded:
    from infra.ops.releases.record import given  # noqa: PLC0415

    return given(args.release_id, args.migration, {str(s): getattr(args, s) for s in SERVICES})


def _announce(mode: str) -> None:
    print(f"mode={mode}")
    output = os.environ.get("GITHUB_OUTPUT")
    if output:
        with open(output, "a", encoding="utf-8") as file:
            file.write(f"mode={mode}\n")


def run_start(args: argparse.Namespace) -> int:
    from pydantic import ValidationError  # noqa: PLC0415

    from infra.ops.canary import transitions  # noqa: PLC0415
    from infra.ops.releases.compatibility import CompatibilityError, assess  # noqa: PLC0415
    from infra.ops.releases.record import RecordError, write_release  # noqa: PLC0415
    from infra.settings.loader import ConfigError  # noqa: PLC0415

    try:
        settings = _settings(args.stack)
        path, stable = _stable(args.stack)
        if stable.canary is not None:
            raise RecordError(
                f"release {stable.canary.id} is already the canary: run it (`canary run`) or abort it first"
            )
        release = _given(args)
        whole = args.without_canary or release.images["api"] == stable.images["api"]
        if not whole and release.migration_revision != stable.migration_revision:
            if args.versions is None:
                raise RecordError(
                    f"release {release.id} moves the schema ({stable.migration_revision} -> "
                    f"{release.migration_revision}): give --versions (its Alembic scripts) so that its "
                    "migration can be checked against stable's code, or release it whole (--without-canary)"
                )
            findings = assess(args.versions, stable.migration_revision, release.migration_revision).findings
            if findings:
                listed = "\n".join(f"  {finding}" for finding in findings)
                print(
                    f"canary start: refused: release {release.id}'s migration is not backward compatible; "
                    f"stable's pods would run on a schema they do not know:\n{listed}\n"
                    "release it whole with --without-canary (every pod rolls right after the migration)",
                    file=sys.stderr,
                )
                return EXIT_INVALID
        record = release if whole else transitions.start(stable, release, settings.canary.weights[0])
        path.write_text(write_release(path.read_text(), record))
    except (
        ConfigError,
        RecordError,
        CompatibilityError,
        ValidationError,
        transitions.TransitionRefused,
    ) as error:
        print(f"canary start: {error}", file=sys.stderr)
        return EXIT_INVALID
    if whole:
        why = "--without-canary" if args.without_canary else "its API image is the running one"
        print(f"{path.name}: release {release.id} recorded whole ({why})")
        _announce("whole")
    else:
        print(f"{path.name}: release {release.id} recorded as the canary at {settings.canary.weights[0]} %")
        _announce("canary")
    return EXIT_OK


def run_abort(args: argparse.Namespace) -> int:
    from infra.ops.automation.stack import OperationError  # noqa: PLC0415
    from infra.ops.canary import transitions  # noqa: PLC0415
    from infra.ops.cli.common import HistoryError  # noqa: PLC0415
    from infra.ops.releases.record import RecordError, write_release  # noqa: PLC0415

    if args.history is not None and not args.deployed:
        print("canary abort: --history goes with --deployed", file=sys.stderr)
        return EXIT_INVALID
    try:
        path, record = _to_abort(args)
    except (RecordError, HistoryError) as error:
        print(f"canary abort: {error}", file=sys.stderr)
        return EXIT_INVALID
    except OperationError as error:
        print(f"canary abort: {error}", file=sys.stderr)
        return EXIT_FAILED
    if record.canary is None:
        print(f"canary abort {args.stack}: no canary is recorded: nothing to abort")
        return EXIT_OK
    if args.apply:
        return _apply_abort(args.stack, record)
    path.write_text(write_release(path.read_text(), transitions.abort(record)))
    print(f"{path.name}: the canary is removed; `pulumi up` removes its objects, release {record.id} stays")
    return EXIT_OK


def _to_abort(args: argparse.Namespace) -> tuple[Path, Recorded]:
    """The stack file, and the record whose canary goes: the file's, or the newest update's."""
    from infra.ops.cli.common import update_history  # noqa: PLC0415
    from infra.ops.releases.history import releases  # noqa: PLC0415
    from infra.ops.releases.record import Recorded, RecordError  # noqa: PLC0415

    path, record = _stable(args.stack)
    if not args.deployed:
        return path, record
    newest = releases(update_history(args))
    if not newest:
        raise RecordError("the stack's history has no update that deployed a release by digest")
    return path, Recorded.of(newest[0])


def _apply_abort(stack: str, record: Recorded) -> int:
    from infra.ops.automation.canary import apply_step  # noqa: PLC0415
    from infra.ops.canary import transitions  # noqa: PLC0415
    from infra.ops.canary.pipeline import StepFailed  # noqa: PLC0415

    try:
        apply_step(stack, project_dir(), "abort", record, transitions.abort(record), on_output=_echo)
    except StepFailed as error:
        print(f"canary abort: {error}\nrun `samokoder-infra rollback {stack}`", file=sys.stderr)
        return EXIT_FAILED
    assert record.canary is not None
    print(f"canary abort {stack}: the canary {record.canary.id} is gone; release {record.id} serves")
    return EXIT_OK


def run_plan(args: argparse.Namespace) -> int:
    from pydantic import ValidationError  # noqa: PLC0415

    from infra.ops.canary.steps import release_steps, step_diffs  # noqa: PLC0415
    from infra.ops.canary.timing import release_minutes  # noqa: PLC0415
    from infra.ops.releases.record import Recorded, RecordError  # noqa: PLC0415
    from infra.settings.loader import ConfigError  # noqa: PLC0415

    try:
        settings = _settings(args.stack)
        _, stable = _stable(args.stack)
        if args.release_id is None:
            images = {str(service): "sha256:" + str(n) * 64 for n, service in enumerate(SERVICES, start=7)}
            release = Recorded("next", args.migration or stable.migration_revision, images)
        else:
            release = _given(args)
        steps = release_steps(transitions_base(stable), release, settings.canary.weights)
    except (ConfigError, RecordError, ValidationError) as error:
        print(f"canary plan: {error}", file=sys.stderr)
        return EXIT_INVALID
    diffs = step_diffs(args.stack, project_dir(), steps, on_progress=lambda line: print(line, flush=True))
    beyond = 0
    for diff in diffs:
        counts = ", ".join(f"{op} {diff.count(op)}" for op in ("create", "update", "delete", "replace"))
        print(f"\n{diff.step.label}: {counts}")
        for change in diff.changes:
            print(f"  {change}")
        for change in diff.beyond:
            print(f"  BEYOND THE STEP'S RULES: {change}")
        beyond += len(diff.beyond)
    print()
    for line in release_minutes(settings).lines():
        print(line)
    return EXIT_FAILED if beyond else EXIT_OK


def transitions_base(stable: Recorded) -> Recorded:
    """A plan starts from stable alone, whatever canary is recorded now."""
    from infra.ops.canary import transitions  # noqa: PLC0415

    return stable if stable.canary is None else transitions.abort(stable)


def run_run(args: argparse.Namespace) -> int:
    from infra.ops.canary.pipeline import run_release  # noqa: PLC0415
    from infra.ops.releases.record import RecordError  # noqa: PLC0415
    from infra.settings.loader import ConfigError  # noqa: PLC0415

    try:
        settings = _settings(args.stack)
        _, stable = _stable(args.stack)
        if stable.canary is None:
            raise RecordError("no canary is recorded: `canary start` records one")
        hooks = _hooks(args, settings)
    except (ConfigError, RecordError, ValueError) as error:
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
        apply_step(args.stack, project_dir(), kind, before, after, on_output=_echo)

    def note(moment: Moment, record: Recorded, text: str) -> None:
        print(f"[{moment}] {text}", flush=True)
        if args.grafana:
            _annotate(args.grafana, token, args.stack, moment, record, text=text)

    return Hooks(apply=apply, judge=_judge(args.prometheus, settings), wait=_wait, note=note)


def _judge(url: str, settings: StackSettings) -> Callable[[], Judgement]:
    from infra.ops.canary.evaluate import evaluate  # noqa: PLC0415
    from infra.ops.canary.pipeline import Judged  # noqa: PLC0415
    from infra.ops.canary.prometheus import Prometheus, PrometheusError  # noqa: PLC0415

    prometheus = Prometheus(url)
    span = f"{settings.canary.analysis_minutes}m"

    def judge() -> Judgement:
        try:
            verdict = evaluate(prometheus, settings, span, datetime.now(UTC))
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


def _echo(line: str) -> None:
    print(line, end="", flush=True)


def _wait(seconds: float, what: str) -> None:
    """Sleep, saying each minute how long is left: a step's window is minutes long."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        print(f"{what}: {left / 60:.1f} min left", flush=True)
        time.sleep(min(60.0, left))
