"""`canary`: a release of the API proves itself beside stable before it replaces it.

``start`` records the next release as the canary (after checking that its
migration leaves the stable release's code working), ``run`` takes it through
the stack's weights with the judge and promotes or aborts it, ``plan`` shows
what each step changes and how long a release takes, ``abort`` takes the
canary away. See infra/ops/canary/pipeline.py; one module per action here.
"""

from __future__ import annotations

import argparse

from infra.ops.cli.canary import abort, plan, run, start


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
    for action in (start, run, plan, abort):
        action.register(actions)
