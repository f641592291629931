"""Warning/critical pairs: one name, both levels ordered, percent levels as ratios."""

from __future__ import annotations

from infra.render.monitoring.rules import threshold_alerts
from infra.settings.monitoring import DurationThreshold, Threshold


def test_the_pair_is_warning_then_critical_under_one_name_with_the_same_labels_and_for() -> None:
    warning, critical = threshold_alerts(
        "X", "v", Threshold(warning=1, critical=5), summary="s", description="d", for_="5m", labels={"a": "b"}
    )
    assert (warning.severity, critical.severity) == ("warning", "critical")
    assert warning.name == critical.name == "X"
    assert warning.for_ == critical.for_ == "5m"
    assert warning.labels == critical.labels == {"a": "b"}


def test_a_percent_threshold_compares_the_ratio_against_its_share() -> None:
    warning, critical = threshold_alerts(
        "X", "ratio", Threshold(warning=1, critical=5), summary="s", description="over {level}", for_="1m"
    )
    assert (warning.expr, critical.expr) == ("ratio\n> 0.01", "ratio\n> 0.05")
    assert (warning.description, critical.description) == ("over 1%", "over 5%")


def test_a_duration_threshold_compares_seconds_and_keeps_the_go_templates() -> None:
    warning, critical = threshold_alerts(
        "X",
        "p95",
        DurationThreshold(warning=0.25, critical=2),
        summary="s",
        description="{{ $value | humanizeDuration }} (threshold {level})",
        for_="1m",
    )
    assert (warning.expr, critical.expr) == ("p95\n> 0.25", "p95\n> 2")
    assert warning.description == "{{ $value | humanizeDuration }} (threshold 0.25 s)"
    assert critical.description.endswith("(threshold 2 s)")
    assert warning.labels == {}
