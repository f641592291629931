"""Small PromQL builders; each spells a pattern the rules repeat."""

from __future__ import annotations

from collections.abc import Sequence


def selector(metric: str, *matchers: str) -> str:
    inner = ", ".join(m for m in matchers if m)
    return f"{metric}{{{inner}}}" if inner else metric


def by(labels: Sequence[str]) -> str:
    return f" by ({', '.join(labels)})" if labels else ""


def sum_rate(series: str, window: str, labels: Sequence[str] = ()) -> str:
    return f"sum{by(labels)} (rate({series}[{window}]))"


def ratio(numerator: str, denominator: str) -> str:
    """Divide two aggregates.

    Both sides must already be aggregated to the same labels: dividing raw
    per-series rates matches them one to one, and a single failing series
    then reads as a 100 % error rate.
    """
    return f"(\n  {numerator}\n/\n  {denominator}\n)"


def quantile(
    q: float, histogram: str, matchers: Sequence[str], window: str, labels: Sequence[str] = ()
) -> str:
    bucket = selector(f"{histogram}_bucket", *matchers)
    return f"histogram_quantile({q:g}, {sum_rate(bucket, window, ('le', *labels))})"


def ratio_of(aggregation: str, numerator: str, denominator: str) -> str:
    """``numerator / denominator``, each aggregated the same way first (``sum by (job)``...)."""
    return ratio(f"{aggregation} ({numerator})", f"{aggregation} ({denominator})")
