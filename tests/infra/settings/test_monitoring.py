"""The monitoring profile: instrumentation switches, the edge's latency buckets, measurable thresholds."""

from __future__ import annotations

import pytest

from infra import app_contract
from infra.ingress_contract import TIME_BUCKETS_SECONDS
from infra.settings.loader import read_profile, validate_settings
from infra.settings.monitoring import (
    INSTRUMENTATION_GROUPS,
    INSTRUMENTATION_METRICS,
    Instrumentation,
    never_set,
)
from tests.conftest import STACKS, stack_file_values, with_changes
from tests.infra.settings.test_stack import problems_of


@pytest.mark.parametrize("stack", STACKS)
def test_every_instrumentation_group_is_off_while_the_app_sets_none_of_its_metrics(stack: str) -> None:
    settings = validate_settings(stack, read_profile(stack), stack_file_values(stack), offline=True)
    assert settings.monitoring.instrumentation.enabled == frozenset()
    # The default, for a profile that says nothing.
    assert Instrumentation().enabled == frozenset()


@pytest.mark.parametrize("group", INSTRUMENTATION_GROUPS)
def test_a_group_whose_metrics_the_app_never_sets_cannot_be_turned_on(group: str) -> None:
    (problem,) = problems_of("prod", {f"monitoring.instrumentation.{group}": True})
    assert f"stacks/prod.yaml: monitoring.instrumentation.{group}: the app never sets" in problem
    for metric in INSTRUMENTATION_METRICS[group]:  # type: ignore[index]
        assert metric in problem
    assert "docs/app-contract.md" in problem


def test_a_group_may_be_turned_on_once_the_contract_marks_its_metrics_emitted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emitted = tuple(
        app_contract.Metric(**{**vars(m), "emitted": True})
        if m.name in INSTRUMENTATION_METRICS["auth"]
        else m
        for m in app_contract.METRICS
    )
    monkeypatch.setattr("infra.settings.monitoring.METRICS", emitted)
    assert never_set("auth") == ()
    profile = with_changes(read_profile("prod"), {"monitoring.instrumentation.auth": True})
    settings = validate_settings("prod", profile, stack_file_values("prod"), offline=True)
    assert settings.monitoring.instrumentation.enabled == {"auth"}


def test_every_group_names_metrics_of_the_contract() -> None:
    defined = {m.name for m in app_contract.METRICS}
    for group in INSTRUMENTATION_GROUPS:
        assert set(INSTRUMENTATION_METRICS[group]) <= defined, group
        # Each group exists because the app does not set its metrics yet.
        assert never_set(group), f"{group}: every metric is emitted, drop the switch"


def test_the_latency_slo_threshold_is_a_bucket_of_the_ingress_histogram() -> None:
    # 0.75 s is a bucket of the app's histogram, not of ingress-nginx's, where the SLI is measured.
    assert 0.75 in app_contract.LATENCY_BUCKETS_SECONDS
    assert 0.75 not in TIME_BUCKETS_SECONDS
    (problem,) = problems_of("prod", {"slo.latency_threshold_seconds": 0.75})
    assert "must be a bucket bound of nginx_ingress_controller_request_duration_seconds" in problem


@pytest.mark.parametrize("stack", STACKS)
def test_the_groups_latency_thresholds_are_below_the_top_bucket_of_the_apps_histograms(stack: str) -> None:
    """A P95 past a histogram's top finite bucket reads as that bound: a level at or above it never fires."""
    t = validate_settings(stack, read_profile(stack), stack_file_values(stack), offline=True).thresholds
    buckets = {m.name: m.buckets for m in app_contract.METRICS}
    for threshold, metric in (
        (t.llm_latency_p95_seconds, "samokoder_llm_request_duration_seconds"),
        (t.db_query_p95_seconds, "samokoder_db_query_duration_seconds"),
    ):
        assert threshold.critical < max(buckets[metric]), metric
