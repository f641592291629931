"""Entry point of `pulumi up` / `pulumi preview`: see infra/ops/program.py."""

from infra.ops.program import main

main()
