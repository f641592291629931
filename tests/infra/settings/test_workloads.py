"""Workload settings: an ACME contact Let's Encrypt accepts, and the app's environment per stack."""

from __future__ import annotations

import pytest

from infra.settings.loader import ConfigError, read_profile, validate_settings
from tests.conftest import stack_file_values, with_changes


def problems(stack: str, changes: dict[str, object]) -> list[str]:
    profile = with_changes(read_profile(stack), changes)
    with pytest.raises(ConfigError) as caught:
        validate_settings(stack, profile, stack_file_values(stack), offline=True)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(
    "email",
    ["oncall@samokoder.example", "ops@example.com", "me@host.test", "root@box.invalid", "a@b.localhost"],
)
def test_a_contact_at_a_reserved_domain_is_refused_before_lets_encrypt_would(email: str) -> None:
    (problem,) = problems("prod", {"workloads.acme_email": email})
    assert problem.startswith("stacks/prod.yaml: workloads.acme_email:")
    assert "reserved domain" in problem
    assert "Let's Encrypt refuses" in problem


def test_a_deliverable_contact_is_kept() -> None:
    profile = with_changes(read_profile("staging"), {"workloads.acme_email": "ops@samokoder.ru"})
    settings = validate_settings("staging", profile, stack_file_values("staging"), offline=True)
    assert settings.workloads.acme_email == "ops@samokoder.ru"


def test_prod_refuses_to_run_the_app_outside_its_production_mode() -> None:
    (problem,) = problems("prod", {"workloads.environment": "staging"})
    assert problem.startswith("stacks/prod.yaml: workloads.environment:")
    assert "ENVIRONMENT 'production'" in problem
