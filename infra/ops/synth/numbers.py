"""Whole numbers as integers in synth output.

The mock runtime hands every number back as a float (Pulumi's wire format
has one number type), so a port reads `5432.0` and an age `26.0`. Written
as they are, `replicas: 1.0` is not even a valid int32 for a Kubernetes API
server. Only floats that hold a whole number change; 0.5 stays 0.5.
"""

from __future__ import annotations

import math
from typing import Any


def whole_numbers(value: Any) -> Any:
    """A copy of `value` (JSON-like data) with every integral float written as an int."""
    if isinstance(value, dict):
        return {key: whole_numbers(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [whole_numbers(item) for item in value]
    # bool is an int, never a float: it passes through untouched.
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value
