"""Entry point of `pulumi up` / `pulumi preview`: see infra/program.py."""

from infra.program import main

main()
