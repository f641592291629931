"""`samokoder-infra`: the operators' command line.

Every command has --help. Exit codes: 0 success, 1 failure while running,
2 invalid input (bad config or arguments).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from infra.config import ConfigError
from infra.config.model import SECRET_GROUPS
from stacks import known_stacks

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2
DEFAULT_STACK = "staging"


def _project_dir() -> Path:
    # The project is where Pulumi.yaml is: the current directory or above.
    here = Path.cwd()
    for candidate in (here, *here.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    return here


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="samokoder-infra",
        description="Samokoder infrastructure on Yandex Cloud: offline synth and operations.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    synth = commands.add_parser(
        "synth",
        help="render what a stack would deploy, offline (no cloud, no CLI, no credentials)",
        description=(
            "Run the Pulumi program for STACK under Pulumi's mock runtime and write "
            "build/STACK/: resources.json (every resource, secrets redacted), outputs.json, "
            "and one YAML file per Kubernetes object under k8s/."
        ),
    )
    synth.add_argument(
        "stacks",
        nargs="*",
        default=[DEFAULT_STACK],
        metavar="STACK",
        help=f"stacks to synthesize: {', '.join(known_stacks())} (default: {DEFAULT_STACK})",
    )
    synth.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="output directory, with a single STACK (default: build/STACK in the project)",
    )
    synth.set_defaults(handler=_synth)

    restore = commands.add_parser(
        "restore",
        help="render (or with --apply create) a new database cluster restored from the backups",
        description=(
            "Render a new CloudNativePG cluster for STACK bootstrapped from the object store's base "
            "backups and WAL: to --target-time (point in time) or to the latest archived point. The "
            "running cluster is never touched. Writes build/STACK/restore/NAME.yaml; with --apply it "
            "records the request in the stack's config (samokoder:restore) and runs a Pulumi update "
            "targeted at the new cluster alone. See docs/runbooks/database-restore.md."
        ),
    )
    restore.add_argument("stack", metavar="STACK", help=f"the stack: {', '.join(known_stacks())}")
    restore.add_argument(
        "--target-time",
        type=_timestamp,
        default=None,
        metavar="ISO8601",
        help="recover up to this moment, with its UTC offset, e.g. 2026-11-26T09:30:00+03:00 "
        "(default: the latest archived point)",
    )
    restore.add_argument(
        "--into",
        default=None,
        metavar="NAME",
        help="name of the new cluster (default: samokoder-db-restore-<YYYYMMDD-HHMM>)",
    )
    restore.add_argument(
        "--apply",
        action="store_true",
        help="create it through Pulumi (needs the CLI, the state backend and cloud credentials)",
    )
    restore.set_defaults(handler=_restore)

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
    rotate.add_argument("stack", metavar="STACK", help=f"the stack: {', '.join(known_stacks())}")
    rotate.add_argument(
        "--only",
        action="append",
        choices=SECRET_GROUPS,
        metavar="NAME",
        help=f"rotate only this group ({', '.join(SECRET_GROUPS)}); repeatable (default: all)",
    )
    rotate.set_defaults(handler=_rotate_secrets)
    return parser


def _rotate_secrets(args: argparse.Namespace) -> int:
    if args.stack not in known_stacks():
        print(
            f"rotate-secrets: unknown stack {args.stack!r}; known: {', '.join(known_stacks())}",
            file=sys.stderr,
        )
        return EXIT_INVALID
    from infra.automation.rotation import mark_for_rotation  # noqa: PLC0415
    from infra.automation.stack import OperationError  # noqa: PLC0415

    groups = sorted(set(args.only or SECRET_GROUPS))
    now = datetime.now(UTC).replace(microsecond=0)
    print(f"rotate-secrets {args.stack}: marking {', '.join(groups)} at {now.isoformat()} ...", flush=True)
    try:
        ages = mark_for_rotation(args.stack, _project_dir(), groups, now)
    except OperationError as error:
        print(f"rotate-secrets: {error}", file=sys.stderr)
        return EXIT_FAILED
    for group in groups:
        age = ages.get(group, {})
        rotated, days = age.get("rotated_at", "unknown"), age.get("age_days", "?")
        print(f"  {group}: last rotated {rotated} ({days} days ago)")
    print(f"next: pulumi up -s {args.stack} (new values and Lockbox versions); then restart the workloads")
    return EXIT_OK


def _timestamp(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 time: {text!r} (e.g. 2026-11-26T09:30:00+03:00)"
        ) from None


def _restore(args: argparse.Namespace) -> int:
    from infra.config import load_settings  # noqa: PLC0415
    from infra.config.source import stack_file_values  # noqa: PLC0415
    from infra.database.restore import RestoreError, plan_restore  # noqa: PLC0415
    from infra.monitoring.render import dump_yaml  # noqa: PLC0415

    project = _project_dir()
    try:
        values = stack_file_values(project / f"Pulumi.{args.stack}.yaml")
        # A restore already recorded in the stack file is what --apply replaces.
        values.pop("restore", None)
        # Rendering needs no secret; `--apply` runs the program, which checks them.
        settings = load_settings(args.stack, values, offline=True)
        plan = plan_restore(settings, into=args.into, target_time=args.target_time, now=datetime.now(UTC))
    except ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_INVALID
    except RestoreError as error:
        print(f"restore: {error}", file=sys.stderr)
        return EXIT_INVALID
    out = project / "build" / args.stack / "restore" / f"{plan.request.into}.yaml"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(dump_yaml(plan.manifest))
    point = plan.request.target_time.isoformat() if plan.request.target_time else "the latest archived point"
    print(
        f"restore {args.stack}: cluster {plan.request.into} from the backups of samokoder-db, up to {point}"
    )
    print(f"wrote {out}")
    if not args.apply:
        print("nothing applied: run again with --apply to create it (see docs/runbooks/database-restore.md)")
        return EXIT_OK
    from infra.automation.restore import apply_restore  # noqa: PLC0415
    from infra.automation.stack import OperationError  # noqa: PLC0415

    try:
        apply_restore(plan, project, on_output=lambda line: print(line, end="", flush=True))
    except OperationError as error:
        print(f"restore: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(
        f"restore {args.stack}: {plan.request.into} created; watch it with "
        f"'kubectl cnpg status {plan.request.into} -n samokoder'"
    )
    return EXIT_OK


def _synth(args: argparse.Namespace) -> int:
    if args.out is not None and len(args.stacks) != 1:
        print("synth: --out takes a single STACK", file=sys.stderr)
        return EXIT_INVALID
    # Imported here so that --help does not pay for loading Pulumi and the providers.
    from infra.synth.runner import synthesize  # noqa: PLC0415
    from infra.synth.writer import write_synthesis  # noqa: PLC0415

    project = _project_dir()
    for stack in args.stacks:
        out_dir: Path = args.out or project / "build" / stack
        print(f"synth {stack}: running the program under Pulumi's mock runtime ...", flush=True)
        started = time.perf_counter()
        try:
            synthesis = synthesize(stack, project)
        except ConfigError as error:
            print(error, file=sys.stderr)
            return EXIT_INVALID
        files = write_synthesis(synthesis, out_dir)
        _print_summary(synthesis.counts_by_type(), synthesis.warnings)
        print(f"wrote {len(files)} files to {out_dir} in {time.perf_counter() - started:.1f}s\n")
    return EXIT_OK


def _print_summary(counts: dict[str, int], warnings: list[str]) -> None:
    width = max(len(t) for t in counts)
    print(f"\n{'resource type':<{width}}  count")
    for type_, count in counts.items():
        print(f"{type_:<{width}}  {count:>5}")
    print(f"{'total':<{width}}  {sum(counts.values()):>5}")
    print(f"\nwarnings: {len(warnings)}")
    for warning in warnings:
        print(f"  - {warning}")


def main(argv: Sequence[str] | None = None) -> int:
    # A run is short, and what it allocates in bulk (the provider SDKs'
    # modules) lives until exit: cyclic collection passes over it cost about
    # a fifth of synth's wall time and free next to nothing (see
    # benchmarks/synth_benchmark.py for time and peak memory).
    gc.disable()
    args = build_parser().parse_args(argv)
    handler = args.handler
    result: int = handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
