"""The log-based rules' expressions, parsed by Grafana's LogQL grammar.

Not Loki's rule checker: none installs from Debian, PyPI or npm (docs/monitoring.md,
Logs). ``@grafana/lezer-logql`` (npm, installed by scripts/install-tools) is the grammar
Grafana's Loki query editor parses with: it judges an expression's syntax, not what
only a running Loki would refuse.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from infra.render import logs
from tests.tools import TOOLS_BIN

pytestmark = pytest.mark.tool

LOGQL = TOOLS_BIN.parent / "node" / "node_modules" / "@grafana" / "lezer-logql"
RUNNER = Path(__file__).parent / "logql.cjs"


def parsed(exprs: list[str], module: Path = LOGQL) -> tuple[int, list[dict[str, object]]]:
    """The runner's exit code and, per expression, the offsets of its syntax errors."""
    if not (module / "package.json").is_file():
        raise AssertionError(f"@grafana/lezer-logql is not installed at {module}: run 'make tools'")
    result = subprocess.run(
        ["node", str(RUNNER)],
        input=json.dumps(exprs),
        env={**os.environ, "LOGQL_MODULE": str(module)},
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode, [json.loads(line) for line in result.stdout.splitlines()]


def test_every_log_rule_parses() -> None:
    exprs = [alert.expr for alert in logs.log_rules().alerts]
    assert exprs
    returncode, results = parsed(exprs)
    assert [r["errors"] for r in results] == [[] for _ in exprs], results
    assert returncode == 0


def test_a_broken_rule_fails_and_is_named() -> None:
    (alert,) = logs.log_rules().alerts
    # The range's closing bracket dropped: Loki would refuse the rule file.
    broken = alert.expr.replace(f"[{logs.ERROR_WINDOW}]", f"[{logs.ERROR_WINDOW}")
    returncode, results = parsed([alert.expr, broken])
    assert returncode == 1
    assert [bool(r["errors"]) for r in results] == [False, True]
