"""The CRD check itself rejects what the API server would."""

from __future__ import annotations

from typing import Any

from tests.crd_schemas import crd_problems


def rule(**alert: Any) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "x", "namespace": "monitoring"},
        "spec": {"groups": [{"name": "g", "rules": [{"alert": "A", "expr": "vector(1)", **alert}]}]},
    }


def test_a_valid_rule_passes() -> None:
    assert crd_problems(rule(labels={"severity": "info"})) == []


def test_a_misspelt_field_is_rejected() -> None:
    problems = crd_problems(rule(anotations={"summary": "typo"}))
    assert problems
    assert "anotations" in problems[0]


def test_a_wrong_type_is_rejected() -> None:
    assert crd_problems(rule(labels=["severity"]))


def test_a_kind_without_crd_is_rejected() -> None:
    (problem,) = crd_problems({"apiVersion": "example.com/v1", "kind": "Nope"})
    assert problem.startswith("no CRD schema for example.com/v1 Nope")
