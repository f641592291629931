"""The canary runbook's timing table says what the stacks' settings compute."""

from __future__ import annotations

import re

import pytest

from infra.ops.canary.timing import release_minutes
from infra.settings.loader import load_settings
from tests.conftest import PROJECT_DIR, STACKS, stack_file_values

RUNBOOK = PROJECT_DIR / "docs" / "runbooks" / "canary.md"


@pytest.mark.parametrize("stack", STACKS)
def test_the_runbooks_release_time_is_the_settings(stack: str) -> None:
    time = release_minutes(load_settings(stack, stack_file_values(stack), offline=True))
    (row,) = [line for line in RUNBOOK.read_text().splitlines() if line.startswith(f"| {stack} |")]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[1] == ", ".join(f"{w} %" for w in time.weights)
    assert cells[2] == f"{time.window_minutes} min"
    assert cells[3] == f"{time.judged_minutes} min"
    assert re.match(rf"{time.longest_judged_minutes} min \({time.retries} retr", cells[4])
