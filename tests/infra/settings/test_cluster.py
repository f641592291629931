"""Cluster settings: a Kubernetes version the database's operator supports, or a clear refusal."""

from __future__ import annotations

import pytest

from infra.settings.cluster import DATABASE_OPERATOR_KUBERNETES
from infra.settings.loader import ConfigError, read_profile, validate_settings
from tests.conftest import STACKS, stack_file_values, with_changes


def problems(stack: str, version: str) -> list[str]:
    profile = with_changes(read_profile(stack), {"cluster.version": version})
    with pytest.raises(ConfigError) as caught:
        validate_settings(stack, profile, stack_file_values(stack), offline=True)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize("stack", STACKS)
def test_the_stacks_run_a_kubernetes_cloudnativepg_supports(stack: str) -> None:
    settings = validate_settings(stack, read_profile(stack), stack_file_values(stack), offline=True)
    assert settings.cluster.version in DATABASE_OPERATOR_KUBERNETES


@pytest.mark.parametrize("version", ["1.30", "1.33", "1.37"])
def test_a_kubernetes_the_operator_does_not_support_is_refused_with_the_range(version: str) -> None:
    (problem,) = problems("staging", version)
    assert problem.startswith("stacks/staging.yaml: cluster.version:")
    assert f"Kubernetes {version} is outside what CloudNativePG 1.30 supports (1.34, 1.35, 1.36)" in problem
