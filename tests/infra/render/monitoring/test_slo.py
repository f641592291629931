"""SLO rules: the profile's objectives, every window recorded, the workbook's burn rates."""

from __future__ import annotations

import pytest

from infra.render.monitoring import contract as m
from infra.render.monitoring import slo
from infra.render.monitoring.rules import Alert, RuleFile
from tests.infra.render.monitoring.support import stack_settings


def slo_file(name: str, changes: dict[str, object] | None = None) -> RuleFile:
    (found,) = (f for f in slo.slo_rules(stack_settings("prod", changes)) if f.name == f"slo-{name}")
    return found


def the_alert(rule_file: RuleFile, name: str, severity: str) -> Alert:
    (found,) = (a for a in rule_file.alerts if a.name == name and a.severity == severity)
    return found


def test_one_rule_file_per_slo_with_the_objective_of_the_profile() -> None:
    settings = stack_settings("prod", {"slo.availability_percent": 99.5})
    availability, latency = slo.api_slos(settings.slo)
    assert [f.name for f in slo.slo_rules(settings)] == ["slo-availability", "slo-latency"]
    assert (availability.objective, availability.budget) == (0.995, 0.005)
    assert latency.objective == settings.slo.latency_percent / 100


@pytest.mark.parametrize("name", ["availability", "latency"])
def test_the_error_ratio_is_recorded_over_every_window_and_the_period(name: str) -> None:
    rule_file = slo_file(name, {"slo.window_days": 28})
    recorded = {r.record for r in rule_file.recordings}
    assert {slo.ERROR_RATIO.format(window=w) for w in (*slo.WINDOWS, "28d")} <= recorded
    assert {slo.OBJECTIVE, slo.BUDGET_REMAINING} <= recorded
    assert all(r.labels == {"service": "api", "slo": name} for r in rule_file.recordings)


def test_burn_alerts_page_on_fast_burns_and_ticket_on_slow_ones() -> None:
    rule_file = slo_file("availability")
    page = the_alert(rule_file, "ApiAvailabilityBudgetBurn", "critical").expr
    ticket = the_alert(rule_file, "ApiAvailabilityBudgetBurn", "warning").expr
    # Budget 0.001 (99.9 %): burn 14.4 and 6 page, 3 and 1 open a ticket.
    assert "> 0.0144" in page
    assert "> 0.006" in page
    assert "> 0.003" in ticket
    assert "> 0.001\n" in ticket
    assert "0.0144" not in ticket


def test_the_latency_sli_counts_the_bucket_of_the_profiles_threshold() -> None:
    rule_file = slo_file("latency", {"slo.latency_threshold_seconds": 2.5})
    exprs = " ".join(r.expr for r in rule_file.recordings)
    assert m.le_matcher(2.5) in exprs
    assert m.le_matcher(1.0) not in exprs
    assert m.EDGE_NOT_WEBSOCKET in exprs


def test_budget_alerts_use_the_profiles_error_budget_levels() -> None:
    rule_file = slo_file("latency", {"thresholds.error_budget": {"warning": 40, "critical": 15}})
    assert the_alert(rule_file, "ApiLatencyBudgetLow", "warning").expr.endswith("< 0.4")
    assert the_alert(rule_file, "ApiLatencyBudgetLow", "critical").expr.endswith("< 0.15")
