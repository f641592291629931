"""A project stack with its profile changed, synthesized the way synth runs the program.

``synthesize`` reads the profile from ``stacks/``; a variant validates the
changed profile with the stack's own Pulumi.<stack>.yaml and runs
``infra.ops.program.build`` under the same mock runtime.
"""

from __future__ import annotations

from typing import Any

from infra.ops import program
from infra.ops.synth.runner import Synthesis, recorded_synthesis, run_mocked
from infra.settings.loader import read_profile, validate_settings
from tests.conftest import stack_file_values, with_changes


def synthesize_variant(stack: str, profile_changes: dict[str, Any], *, preview: bool = False) -> Synthesis:
    settings = validate_settings(
        stack, with_changes(read_profile(stack), profile_changes), stack_file_values(stack), offline=True
    )
    platform, monitor, warnings = run_mocked(
        lambda: program.build(settings, offline=True), stack, preview=preview
    )
    return recorded_synthesis(stack, platform, monitor, warnings, preview=preview)
