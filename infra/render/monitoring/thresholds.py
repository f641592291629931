"""Warning/critical alert pairs: one alert name, two severities.

Both levels share the alert's name so that Alertmanager's inhibition
(``critical`` mutes ``warning`` of the same alert) pairs them.
"""

from __future__ import annotations

from collections.abc import Mapping

from infra.render.monitoring.rules import Alert
from infra.settings.monitoring import DurationThreshold, Threshold


def _levels(threshold: Threshold | DurationThreshold, percent: bool) -> tuple[tuple[str, float], ...]:
    scale = 100.0 if percent else 1.0
    return (("warning", threshold.warning / scale), ("critical", threshold.critical / scale))


def threshold_alerts(
    name: str,
    value: str,
    threshold: Threshold | DurationThreshold,
    *,
    summary: str,
    description: str,
    for_: str,
    labels: Mapping[str, str] | None = None,
) -> tuple[Alert, Alert]:
    """``value > level`` at warning and critical. Percent thresholds compare against ratios (0 to 1).

    ``{level}`` in ``description`` becomes the threshold as people read it (a plain
    replace, not ``str.format``: the text also holds Go template braces).
    """
    percent = isinstance(threshold, Threshold)
    warning, critical = (
        Alert(
            name=name,
            expr=f"{value}\n> {level:g}",
            severity="critical" if severity == "critical" else "warning",
            summary=summary,
            description=description.replace("{level}", f"{level:.0%}" if percent else f"{level:g} s"),
            for_=for_,
            labels=labels or {},
        )
        for severity, level in _levels(threshold, percent)
    )
    return warning, critical
