"""`smoke`: check the API's /health through the stack's public ingress."""

from __future__ import annotations

import argparse

from infra.ops.cli.common import EXIT_FAILED, EXIT_OK, add_stack_argument, domain


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    smoke = commands.add_parser(
        "smoke",
        help="check the API's /health through the stack's public ingress",
        description=(
            "GET https://<domain>/api/health of STACK (the domain from Pulumi.STACK.yaml) until it answers "
            "200, up to --attempts times; exit 0 when healthy, 1 when not. Run after every update."
        ),
    )
    add_stack_argument(smoke)
    smoke.add_argument("--attempts", type=int, default=10, help="tries, 6 s apart (default 10)")
    smoke.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from infra.ops.releases.smoke import check_health, health_url  # noqa: PLC0415

    result = check_health(health_url(domain(args.stack)), attempts=args.attempts)
    print(f"smoke check {result.url}: {'healthy' if result.healthy else 'UNHEALTHY'} ({result.detail})")
    return EXIT_OK if result.healthy else EXIT_FAILED
