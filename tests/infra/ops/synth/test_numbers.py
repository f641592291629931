"""Whole numbers written as integers: only floats that hold one."""

from __future__ import annotations

import math

from infra.ops.synth.numbers import whole_numbers


def test_integral_floats_become_ints_and_nothing_else_changes() -> None:
    data = {
        "port": 5432.0,
        "ratio": 0.5,
        "negative": -3.0,
        "flag": True,
        "name": "5432.0",
        "nothing": None,
        "list": [1.0, 2.5, {"deep": 26.0}],
        "huge": 1e20,
        "infinite": math.inf,
    }
    converted = whole_numbers(data)
    assert converted == {
        "port": 5432,
        "ratio": 0.5,
        "negative": -3,
        "flag": True,
        "name": "5432.0",
        "nothing": None,
        "list": [1, 2.5, {"deep": 26}],
        "huge": 10**20,
        "infinite": math.inf,
    }
    assert type(converted["port"]) is int
    assert type(converted["flag"]) is bool
    assert type(converted["ratio"]) is float
    assert type(data["port"]) is float, "the input is left alone"
