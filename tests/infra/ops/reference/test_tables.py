"""The generators' own rules: rows merged across stacks in order, environments read from workflows."""

from __future__ import annotations

from collections.abc import Callable

from infra.ops.reference.markdown import cell, table
from infra.ops.reference.monitoring import routes_table
from infra.ops.reference.sources import Sources, by_stack
from infra.ops.reference.workflows import _environments
from infra.ops.synth.runner import Synthesis
from tests.conftest import PROJECT_DIR


def test_rows_of_several_stacks_keep_each_stacks_order() -> None:
    merged = by_stack(
        {
            "staging": [("a",), ("b-staging",), ("c",)],
            "prod": [("a",), ("b-prod",), ("c",), ("d",)],
        }
    )
    assert merged == [
        ("a", "staging, prod"),
        ("b-prod", "prod"),
        ("b-staging", "staging"),
        ("c", "staging, prod"),
        ("d", "prod"),
    ]


def test_a_cell_is_one_line_with_its_pipes_escaped() -> None:
    assert cell("a |\n b") == "a \\| b"
    assert table(("x", "y"), [("1", "`a|b`")]) == "| x | y |\n|---|---|\n| 1 | `a\\|b` |\n"


def test_environments_are_literals_or_what_an_expression_chooses() -> None:
    document = {
        "jobs": {
            "a": {"environment": "staging"},
            "b": {"environment": "${{ inputs.stack == 'prod' && 'production' || 'staging' }}"},
            "c": {
                "environment": "${{ matrix.environment }}",
                "strategy": {"matrix": {"include": [{"environment": "production-preview"}]}},
            },
            "d": {"environment": "${{ inputs.environment }}"},
            "e": {"inputs": {"environment": {"type": "string"}}},
        }
    }
    assert list(_environments(document)) == ["staging", "production", "staging", "production-preview", ""]


def test_prods_critical_route_reaches_every_receiver_its_profile_names(
    synthesized: Callable[[str], Synthesis],
) -> None:
    sources = Sources(PROJECT_DIR, synthesize=lambda stack, _: synthesized(stack))
    receivers = synthesized("prod").settings.alerting.routes.critical
    rows = [
        line.strip("| ").split(" | ")
        for line in routes_table(sources).splitlines()
        if '`severity="critical"`' in line
    ]
    prods = [row for row in rows if "prod" in row[-1].split(", ")]
    assert len(prods) == 1, rows
    assert set(prods[0][2].split(", ")) == set(receivers)
