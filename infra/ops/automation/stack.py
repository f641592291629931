"""Selecting a stack through the Automation API, with a clear error where the CLI is missing."""

from __future__ import annotations

import shutil
from pathlib import Path

from pulumi import automation as auto


class OperationError(RuntimeError):
    """An operation that could not run or did not finish; the message says what to do."""


def select(stack: str, project_dir: Path) -> auto.Stack:
    if shutil.which("pulumi") is None:
        raise OperationError(
            "the pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/install/) and log in "
            "to the state backend (README, 'Running it for real') before applying"
        )
    return auto.select_stack(stack_name=stack, work_dir=str(project_dir))
