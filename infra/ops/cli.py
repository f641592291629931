"""`samokoder-infra`: the operators' command line.

Every command has --help. Exit codes: 0 success, 1 failure while running,
2 invalid input (bad config or arguments).
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.settings import ConfigError
from infra.settings.secrets import SECRET_GROUPS
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

    check = commands.add_parser(
        "check",
        help="run the policy pack's policies on a stack, offline",
        description=(
            "Synthesize STACK under the mock runtime and run every policy of the CrossGuard pack "
            "(policy/, the same validator functions) on it; print a table, write "
            "build/STACK/policy-report.json, and exit 1 on a mandatory violation. Synth runs it too."
        ),
    )
    check.add_argument("stack", metavar="STACK", help=f"the stack: {', '.join(known_stacks())}")
    check.set_defaults(handler=_check)

    diff = commands.add_parser(
        "monitoring-diff",
        help="summarise how alerts, rules and dashboards differ between two synth builds (Markdown)",
        description=(
            "Compare BASE and HEAD, each a build/ directory of synth output with one folder per stack, "
            "and print a Markdown summary of added, removed and changed alerts, recording rules and "
            "dashboards per stack. The pull-request workflow posts it."
        ),
    )
    diff.add_argument("base", type=Path, metavar="BASE", help="build/ of the base branch")
    diff.add_argument("head", type=Path, metavar="HEAD", help="build/ of the change")
    diff.set_defaults(handler=_monitoring_diff)

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

    listing = commands.add_parser(
        "releases",
        help="list a stack's releases from its update history",
        description=(
            "Read STACK's update history (Pulumi Automation API; needs the CLI and the state backend) "
            "and print each update that deployed a release: version, time, result, release id, "
            "migration revision and image digests. --history FILE reads a saved "
            "`pulumi stack history --json` instead."
        ),
    )
    listing.add_argument("stack", metavar="STACK", help=f"the stack: {', '.join(known_stacks())}")
    listing.add_argument(
        "--history", type=Path, metavar="FILE", help="read this history JSON instead of the stack's"
    )
    listing.set_defaults(handler=_releases)

    rollback = commands.add_parser(
        "rollback",
        help="redeploy an earlier release's image digests, and nothing else",
        description=(
            "Pick the last successful release before the current one (or --to RELEASE, or --steps N "
            "back), check that its digests are still in the registry and that it expects the "
            "database's migration revision, then set the stack's release to it, preview (refusing if "
            "anything but Deployments would change) and update. A smoke check of /health through the "
            "ingress follows. Failure exits non-zero with the stack's release config as before."
        ),
    )
    rollback.add_argument("stack", metavar="STACK", help=f"the stack: {', '.join(known_stacks())}")
    target = rollback.add_mutually_exclusive_group()
    target.add_argument("--to", metavar="RELEASE", help="the release id to go back to")
    target.add_argument("--steps", type=int, default=1, metavar="N", help="go back N releases (default 1)")
    rollback.add_argument(
        "--history", type=Path, metavar="FILE", help="choose from this history JSON (with --dry-run)"
    )
    rollback.add_argument(
        "--dry-run", action="store_true", help="say what would be rolled back, change nothing"
    )
    rollback.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    rollback.set_defaults(handler=_rollback)

    smoke = commands.add_parser(
        "smoke",
        help="check the API's /health through the stack's public ingress",
        description=(
            "GET https://<domain>/health of STACK (the domain from Pulumi.STACK.yaml) until it answers "
            "200, up to --attempts times; exit 0 when healthy, 1 when not. Run after every update."
        ),
    )
    smoke.add_argument("stack", metavar="STACK", help=f"the stack: {', '.join(known_stacks())}")
    smoke.add_argument("--attempts", type=int, default=10, help="tries, 6 s apart (default 10)")
    smoke.set_defaults(handler=_smoke)
    return parser


def _smoke(args: argparse.Namespace) -> int:
    from infra.ops.releases.smoke import check_health  # noqa: PLC0415

    result = check_health(f"https://{_domain(args.stack)}/health", attempts=args.attempts)
    print(f"smoke check {result.url}: {'healthy' if result.healthy else 'UNHEALTHY'} ({result.detail})")
    return EXIT_OK if result.healthy else EXIT_FAILED


def _history(args: argparse.Namespace) -> list[dict[str, Any]]:
    if args.history is not None:
        loaded: list[dict[str, Any]] = json.loads(args.history.read_text())
        return loaded
    from infra.ops.automation.rollback import load_history  # noqa: PLC0415

    return load_history(args.stack, _project_dir())


def _releases(args: argparse.Namespace) -> int:
    from infra.ops.automation.stack import OperationError  # noqa: PLC0415
    from infra.ops.releases.history import releases  # noqa: PLC0415

    try:
        found = releases(_history(args))
    except OperationError as error:
        print(f"releases: {error}", file=sys.stderr)
        return EXIT_FAILED
    if not found:
        print(f"{args.stack}: no update has deployed a release by digest yet")
        return EXIT_OK
    print(f"{'update':>6}  {'time':<25} {'result':<10} {'release':<16} {'migration':<12} digests")
    for r in found:
        digests = " ".join(f"{s}={d.removeprefix('sha256:')[:12]}" for s, d in sorted(r.images.items()))
        print(f"{r.version:>6}  {r.time:<25} {r.result:<10} {r.id:<16} {r.migration_revision:<12} {digests}")
    return EXIT_OK


def _rollback(args: argparse.Namespace) -> int:
    from infra.ops.automation.stack import OperationError  # noqa: PLC0415
    from infra.ops.releases.history import RollbackRefused, choose_target  # noqa: PLC0415

    if args.history is not None and not args.dry_run:
        print(
            "rollback: --history is for --dry-run; a real rollback reads the stack's own history",
            file=sys.stderr,
        )
        return EXIT_INVALID
    try:
        print(f"rollback {args.stack}: reading the update history ...", flush=True)
        plan = choose_target(_history(args), to=args.to, steps=args.steps)
    except RollbackRefused as error:
        print(f"rollback: refused: {error}", file=sys.stderr)
        return EXIT_INVALID
    except OperationError as error:
        print(f"rollback: {error}", file=sys.stderr)
        return EXIT_FAILED
    services = ", ".join(plan.changed_services()) or "none"
    print(
        f"rollback {args.stack}: {plan.current.id} (update {plan.current.version}) -> {plan.target.id} "
        f"(update {plan.target.version}); images of: {services}"
    )
    if args.dry_run:
        print("dry run: nothing changed")
        return EXIT_OK
    return _apply_rollback(args, plan)


def _apply_rollback(args: argparse.Namespace, plan: Any) -> int:
    import os  # noqa: PLC0415

    from infra.ops.automation.rollback import roll_back  # noqa: PLC0415
    from infra.ops.automation.stack import OperationError  # noqa: PLC0415
    from infra.ops.releases.registry import RegistryError, missing_images  # noqa: PLC0415
    from infra.ops.releases.smoke import check_health  # noqa: PLC0415

    token = os.environ.get("YC_IAM_TOKEN")
    if not token:
        print("rollback: YC_IAM_TOKEN is not set: it is needed to check the registry", file=sys.stderr)
        return EXIT_FAILED
    try:
        registry_id = _registry_id(args.stack)
        refs = {s: f"cr.yandex/{registry_id}/{s}@{d}" for s, d in plan.target.images.items()}
        missing = missing_images(refs, token)
    except (OperationError, RegistryError) as error:
        print(f"rollback: {error}", file=sys.stderr)
        return EXIT_FAILED
    if missing:
        print(
            f"rollback: refused: the images of {', '.join(missing)} are no longer in the registry",
            file=sys.stderr,
        )
        return EXIT_INVALID
    if not args.yes and input(f"roll {args.stack} back to {plan.target.id}? [y/N] ").strip().lower() != "y":
        print("rollback: not confirmed; nothing changed")
        return EXIT_FAILED
    try:
        roll_back(args.stack, _project_dir(), plan, on_output=lambda line: print(line, end="", flush=True))
    except OperationError as error:
        print(f"rollback: {error}", file=sys.stderr)
        return EXIT_FAILED
    result = check_health(f"https://{_domain(args.stack)}/health")
    print(f"smoke check {result.url}: {'healthy' if result.healthy else 'UNHEALTHY'} ({result.detail})")
    return EXIT_OK if result.healthy else EXIT_FAILED


def _registry_id(stack: str) -> str:
    from infra.ops.automation.stack import select  # noqa: PLC0415

    outputs = select(stack, _project_dir()).outputs()
    return str(outputs["registry_id"].value)


def _domain(stack: str) -> str:
    from infra.settings.source import stack_file_values  # noqa: PLC0415

    identity: dict[str, str] = stack_file_values(_project_dir() / f"Pulumi.{stack}.yaml")["identity"]
    return identity["domain"]


def _rotate_secrets(args: argparse.Namespace) -> int:
    if args.stack not in known_stacks():
        print(
            f"rotate-secrets: unknown stack {args.stack!r}; known: {', '.join(known_stacks())}",
            file=sys.stderr,
        )
        return EXIT_INVALID
    from infra.ops.automation.rotation import mark_for_rotation  # noqa: PLC0415
    from infra.ops.automation.stack import OperationError  # noqa: PLC0415

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
    from infra.render.database.restore import RestoreError, plan_restore  # noqa: PLC0415
    from infra.render.monitoring.render import dump_yaml  # noqa: PLC0415
    from infra.settings import load_settings  # noqa: PLC0415
    from infra.settings.source import stack_file_values  # noqa: PLC0415

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
    from infra.ops.automation.restore import apply_restore  # noqa: PLC0415
    from infra.ops.automation.stack import OperationError  # noqa: PLC0415

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
    from infra.ops.synth.runner import synthesize  # noqa: PLC0415
    from infra.ops.synth.writer import write_synthesis  # noqa: PLC0415

    project = _project_dir()
    failed = False
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
        if not _policy_check(synthesis, out_dir):
            failed = True
    return EXIT_FAILED if failed else EXIT_OK


def _policy_check(synthesis: Any, out_dir: Path) -> bool:
    """Run the policies on a synthesized stack, print the table, write the report; True when none fails."""
    from infra.ops.check.config import policy_config  # noqa: PLC0415
    from infra.ops.check.offline import check, mandatory, table, write_report  # noqa: PLC0415

    config = policy_config(synthesis.settings)
    # The same configuration for `pulumi preview --policy-pack policy/ --policy-pack-config <file>`.
    (out_dir / "policy-config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    violations = check(synthesis.resources, config)
    report = write_report(violations, synthesis.stack, out_dir)
    print(f"policies for {synthesis.stack}:\n{table(violations)}\nwrote {report}\n")
    return not mandatory(violations)


def _monitoring_diff(args: argparse.Namespace) -> int:
    from infra.ops.synth.monitoring_diff import report  # noqa: PLC0415

    for root in (args.base, args.head):
        if not root.is_dir():
            print(f"monitoring-diff: {root} is not a directory of synth output", file=sys.stderr)
            return EXIT_INVALID
    print(report(args.base, args.head), end="")
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    from infra.ops.synth.runner import synthesize  # noqa: PLC0415

    project = _project_dir()
    out_dir = project / "build" / args.stack
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        synthesis = synthesize(args.stack, project)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK if _policy_check(synthesis, out_dir) else EXIT_FAILED


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
