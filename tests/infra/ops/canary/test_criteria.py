"""What a release's canary is judged on, from the stacks' own settings and rules."""

from __future__ import annotations

import pytest

from infra.ops.canary.criteria import judged_on, paging_burn_alerts
from infra.render.monitoring.rules import all_alerts
from infra.render.monitoring.slo import BURN_WINDOWS, api_slos, slo_rules
from tests.conftest import STACKS
from tests.infra.ops.canary.history import exact_tail
from tests.infra.render.monitoring.support import stack_settings


def line(lines: list[str], label: str) -> str:
    (found,) = (entry for entry in lines if entry.startswith(f"- **{label}"))
    return found


@pytest.mark.parametrize("stack", STACKS)
def test_each_bound_is_the_stacks_own(stack: str) -> None:
    settings = stack_settings(stack)
    canary = settings.canary
    lines = judged_on(settings)
    assert all(entry.startswith("- **") for entry in lines)
    assert " → ".join(f"{w} %" for w in canary.weights) in line(lines, "Steps")
    assert f"each step runs {canary.analysis_minutes} min" in line(lines, "Window")
    assert f"at least {canary.min_requests} canary requests" in line(lines, "Enough traffic")
    errors = line(lines, "Errors")
    assert f"at most {canary.max_error_percent:g} %" in errors
    assert f"stable's plus {canary.max_error_increase_points:g} percentage point" in errors
    assert "a probability under 1 % (a one-sided binomial test on the canary's requests)" in errors
    # The fewest 5xx among the fewest requests judged that are over the bound beyond chance.
    needed, share = canary.min_requests, str(canary.max_error_percent / 100)
    fewest = next(k for k in range(needed + 1) if exact_tail(k, needed, share) < 0.01)
    assert f"at {needed} requests it takes {fewest} 5xx ({100 * fewest / needed:g} %) to fail" in errors
    latency = line(lines, "Latency")
    assert f"at most {settings.slo.latency_threshold_seconds:g} s" in latency
    assert f"stable's P95 times {canary.max_latency_ratio:g}" in latency
    assert "only past the first bucket bound at or above that product" in latency
    assert f"up to {canary.inconclusive_retries} time" in line(lines, "Inconclusive")
    time = line(lines, "Time")
    judged = len(canary.weights) * canary.analysis_minutes
    assert time.startswith(f"- **Time**: {judged} min of steps")
    assert f"{len(canary.weights)} steps of {canary.analysis_minutes} min" in time
    longest = judged * (1 + canary.inconclusive_retries)
    hours, minutes = divmod(longest, 60)
    spelt = f"{longest} min" if not hours else f"{hours} h {minutes} min" if minutes else f"{hours} h"
    assert f"at most {spelt} with every retry." in time


def test_the_errors_example_follows_the_traffic_and_the_bound() -> None:
    """Prod's 200 requests at 0.5 % (1 expected) take 5; 2,000 (10 expected) take 19, under 1 %."""
    (at_200,) = (entry for entry in judged_on(stack_settings("prod")) if "**Errors" in entry)
    assert "at 200 requests it takes 5 5xx (2.5 %) to fail 0.5 %" in at_200
    more = judged_on(stack_settings("prod", {"canary.min_requests": 2000}))
    assert "at 2000 requests it takes 19 5xx (0.95 %) to fail 0.5 %" in line(more, "Errors")
    assert exact_tail(19, 2000, "0.005") < 0.01 <= exact_tail(18, 2000, "0.005")


def test_the_paging_alerts_are_the_critical_burn_rate_alerts_the_stack_deploys() -> None:
    settings = stack_settings("prod")
    described = paging_burn_alerts(settings)
    paging = [
        a.name for a in all_alerts(slo_rules(settings)) if a.severity == "critical" and "Burn" in a.name
    ]
    assert len(described) == len(paging) == len(api_slos(settings.slo)) == 2
    for name, text in zip(paging, described, strict=True):
        assert text.startswith(f"`{name}` (")
    # The windows that page, and the error ratios they fire at: the budget times the burn rate.
    (availability, _) = api_slos(settings.slo)
    for window in (w for w in BURN_WINDOWS if w.severity == "critical"):
        ratio = round(window.factor * availability.budget * 100, 6)
        assert f"above {ratio:g} % over {window.long} and {window.short}" in described[0]
    assert all("3d" not in text and "1d" not in text for text in described)
    assert all(text in line(judged_on(settings), "Paging") for text in described)


def test_another_profile_says_other_numbers() -> None:
    changes = {
        "canary.weights": [10, 40],
        "canary.analysis_minutes": 45,
        "canary.min_requests": 1000,
        "canary.inconclusive_retries": 1,
    }
    lines = judged_on(stack_settings("prod", changes))
    assert "10 % → 40 %" in line(lines, "Steps")
    assert "each step runs 45 min" in line(lines, "Window")
    assert "at least 1000 canary requests" in line(lines, "Enough traffic")
    assert "up to 1 time," in line(lines, "Inconclusive")
    # Two steps of 45 minutes, and each judged twice at most.
    assert line(lines, "Time") == (
        "- **Time**: 1 h 30 min of steps (2 steps of 45 min) when every window is conclusive; "
        "at most 3 h with every retry."
    )
