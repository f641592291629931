"""The PromQL builders spell the patterns they name."""

from __future__ import annotations

from infra.render.monitoring.promql import by, quantile, ratio, selector, sum_rate


def test_a_selector_joins_its_matchers_and_drops_empty_ones() -> None:
    assert selector("up", 'job="a"', "", 'namespace="b"') == 'up{job="a", namespace="b"}'
    assert selector("up") == "up"
    assert selector("up", "") == "up"


def test_sum_rate_aggregates_by_the_labels_given_and_otherwise_to_one_series() -> None:
    assert sum_rate("x_total", "5m") == "sum (rate(x_total[5m]))"
    assert sum_rate("x_total", "1h", ["provider", "type"]) == "sum by (provider, type) (rate(x_total[1h]))"
    assert by([]) == ""


def test_a_ratio_divides_the_numerator_by_the_denominator() -> None:
    assert ratio("a", "b").split() == ["(", "a", "/", "b", ")"]


def test_a_quantile_reads_the_buckets_aggregated_by_le_and_the_labels_kept() -> None:
    assert quantile(0.95, "h_seconds", ['job="a"'], "5m", ["provider"]) == (
        'histogram_quantile(0.95, sum by (le, provider) (rate(h_seconds_bucket{job="a"}[5m])))'
    )
    assert quantile(0.5, "h", [], "1m") == "histogram_quantile(0.5, sum by (le) (rate(h_bucket[1m])))"
