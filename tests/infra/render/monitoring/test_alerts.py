"""The platform's alert and recording rules, built from the real profiles."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

from infra.render.monitoring import alerts
from infra.render.monitoring.alerts import series
from infra.render.monitoring.rules import Alert, all_alerts
from tests.infra.render.monitoring.support import stack_settings


def levels(alerts_: tuple[Alert, ...], name: str) -> dict[str, float]:
    """The level each severity of alert `name` compares against (the number after its last '>')."""
    return {a.severity: float(a.expr.rsplit(">", 1)[1]) for a in alerts_ if a.name == name}


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_every_alert_but_the_heartbeats_waits_before_firing(stack: str) -> None:
    files = alerts.platform_rules(stack_settings(stack, instrumented=True))
    immediate = {a.name for a in all_alerts(files) if a.for_ == "0s"}
    assert immediate == {"Watchdog", "InfoInhibitor"}
    assert {a.severity for a in all_alerts(files) if a.name in immediate} == {"none"}


def test_an_alert_named_twice_is_a_warning_below_a_critical() -> None:
    by_name: dict[str, list[Alert]] = defaultdict(list)
    for alert in all_alerts(alerts.platform_rules(stack_settings(instrumented=True))):
        by_name[alert.name].append(alert)
    pairs = {name: found for name, found in by_name.items() if len(found) > 1}
    assert len(pairs) >= 10
    for name, (warning, critical) in pairs.items():
        assert (warning.severity, critical.severity) == ("warning", "critical"), name
        found = levels((warning, critical), name)
        assert found["warning"] < found["critical"], name


def test_the_profiles_thresholds_are_the_levels_the_expressions_compare_against() -> None:
    changes = {
        "thresholds.error_rate": {"warning": 2, "critical": 7},
        "thresholds.latency_p95_seconds": {"warning": 1.5, "critical": 4},
        "thresholds.rate_limit_hits_percent": 12,
        "thresholds.queue_depth": {"warning": 60, "critical": 75, "capacity": 400},
    }
    files = alerts.platform_rules(stack_settings("prod", changes))
    found = all_alerts(files)
    assert levels(found, "ApiErrorRateHigh") == {"warning": 0.02, "critical": 0.07}
    assert levels(found, "ApiLatencyHigh") == {"warning": 1.5, "critical": 4}
    assert levels(found, "HighRateLimitHits") == {"warning": 0.12}
    assert levels(found, "WorkerQueueSaturated") == {"warning": 0.6, "critical": 0.75}
    (queue,) = (r for f in files for r in f.recordings if r.record == series.QUEUE_RATIO)
    assert queue.expr.endswith("/ 400")


def test_recording_rules_are_named_level_metric_operation() -> None:
    files = alerts.platform_rules(stack_settings(instrumented=True))
    records = [r.record for f in files for r in f.recordings]
    assert records
    for record in records:
        assert re.fullmatch(r"samokoder:[a-z0-9_]+:[a-z0-9_]+", record), record


def test_the_uninstrumented_groups_get_no_rules_and_no_group_is_left_empty() -> None:
    plain = alerts.platform_rules(stack_settings("prod"))
    full = alerts.platform_rules(stack_settings("prod", instrumented=True))
    assert [g.name for f in plain for g in f.groups] == [
        "samokoder-api",
        "samokoder-redis",
        "samokoder-saturation",
        "samokoder-meta",
    ]
    assert {"samokoder-llm", "samokoder-database-client", "samokoder-product"} <= {
        g.name for f in full for g in f.groups
    }
    assert all(g.rules for f in (*plain, *full) for g in f.groups)
    assert "DatabasePoolSaturated" not in {a.name for a in all_alerts(plain)}


def test_a_recorded_series_is_recorded_before_the_alerts_of_its_group_read_it() -> None:
    for rule_file in alerts.platform_rules(stack_settings(instrumented=True)):
        for group in rule_file.groups:
            recorded: set[str] = set()
            for rule in group.rules:
                if isinstance(rule, Alert):
                    own = {r.record for r in group.recordings}
                    assert {s for s in own if s in rule.expr} <= recorded, rule.name
                else:
                    recorded.add(rule.record)
