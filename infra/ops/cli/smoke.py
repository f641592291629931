"""`smoke`: check the API's /health through the stack's public ingress."""

from __future__ import annotations

from infra.ops.cli.common import Commands, add_stack_argument, smoke_check


def register(commands: Commands) -> None:
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
    smoke.set_defaults(handler=lambda args: smoke_check(args.stack, args.attempts))
