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


def refused(stack: str, changes: dict[str, object]) -> list[str]:
    profile = with_changes(read_profile(stack), changes)
    with pytest.raises(ConfigError) as caught:
        validate_settings(stack, profile, stack_file_values(stack), offline=True)
    return [str(p) for p in caught.value.problems]


def slash_eights(count: int) -> list[str]:
    """`count` distinct /8 blocks: each one narrow enough for a per-entry rule."""
    return [f"{first}.0.0.0/8" for first in range(1, count + 1)]


@pytest.mark.parametrize(
    ("cidrs", "admitted"),
    [
        (["0.0.0.0/0"], 2**32),
        (["0.0.0.0/1", "128.0.0.0/1"], 2**32),
        (["10.0.0.0/8", "64.0.0.0/4"], 2**24 + 2**28),
        (slash_eights(221), 221 * 2**24),
        # Overlaps are counted once: a /15 and the two /16s inside it admit a /15.
        (["93.158.0.0/15", "93.158.0.0/16", "93.159.0.0/16"], 2**17),
        ([f"93.{third}.0.0/16" for third in range(2)] + ["84.201.128.10/32"], 2**17 + 1),
    ],
)
def test_prod_refuses_an_api_allow_list_by_what_its_entries_open_together(
    cidrs: list[str], admitted: int
) -> None:
    (problem,) = refused("prod", {"cluster.public_api": True, "cluster.api_allowed_cidrs": cidrs})
    assert problem.startswith("stacks/prod.yaml: cluster.api_allowed_cidrs:")
    assert f"admit {admitted:,} addresses together" in problem
    assert "more than a /16 (65,536)" in problem


def test_the_bound_is_a_16_in_total_however_it_is_split() -> None:
    whole = ["93.158.0.0/16"]
    halves = ["93.158.0.0/17", "93.158.128.0/17"]
    scattered = [f"93.158.{third}.0/24" for third in range(255)] + ["84.201.128.10/32"]
    for cidrs in (whole, halves, scattered):
        validate_settings(
            "prod",
            with_changes(read_profile("prod"), {"cluster.api_allowed_cidrs": cidrs}),
            stack_file_values("prod"),
            offline=True,
        )
    # One address past it is refused, however few the entries.
    assert refused("prod", {"cluster.api_allowed_cidrs": [*whole, "84.201.128.10/32"]})


def test_prod_takes_a_private_api_or_narrow_ranges_and_staging_may_stay_open() -> None:
    for changes in (
        {"cluster.public_api": False, "cluster.api_allowed_cidrs": []},
        {"cluster.api_allowed_cidrs": ["198.51.100.7/32", "10.0.0.0/24"]},
    ):
        validate_settings(
            "prod", with_changes(read_profile("prod"), changes), stack_file_values("prod"), offline=True
        )
    staging = with_changes(read_profile("staging"), {"cluster.api_allowed_cidrs": ["0.0.0.0/0"]})
    validate_settings("staging", staging, stack_file_values("staging"), offline=True)


@pytest.mark.parametrize("stack", STACKS)
def test_nodes_are_private_by_default(stack: str) -> None:
    settings = validate_settings(stack, read_profile(stack), stack_file_values(stack), offline=True)
    assert settings.node_group.public_ip is False


def test_prod_refuses_nodes_with_public_addresses() -> None:
    (problem,) = refused("prod", {"node_group.public_ip": True})
    assert problem.startswith("stacks/prod.yaml: node_group.public_ip:")


def real_run_problems(cidrs: list[str]) -> list[str]:
    """What a real run (not synth) says of prod with this API allow-list."""
    profile = with_changes(read_profile("prod"), {"cluster.api_allowed_cidrs": cidrs})
    try:
        validate_settings("prod", profile, stack_file_values("prod"), offline=False)
    except ConfigError as error:
        return [str(p) for p in error.problems if "cluster.api_allowed_cidrs" in str(p)]
    return []


def test_a_real_run_refuses_the_documentation_placeholder_synth_accepts() -> None:
    committed = [str(c) for c in read_profile("prod")["cluster"]["api_allowed_cidrs"]]
    (problem,) = real_run_problems(committed)
    assert "203.0.113.0/24 is a documentation range (RFC 5737) that admits nobody" in problem
    assert "scripts/bootstrap-runner" in problem
    validate_settings("prod", read_profile("prod"), stack_file_values("prod"), offline=True)


@pytest.mark.parametrize("cidrs", [["198.51.100.7/32"], ["192.0.2.0/25", "84.201.128.10/32"]])
def test_any_documentation_block_is_refused_in_a_real_run(cidrs: list[str]) -> None:
    assert real_run_problems(cidrs)


def test_a_real_allow_list_passes_a_real_run() -> None:
    assert real_run_problems(["84.201.128.10/32", "93.158.0.0/24"]) == []
