"""Prometheus rules as data: alerting and recording rules, groups, rule files.

Every alert carries ``severity``, ``summary``, ``description`` and
``runbook_url``; the runbook link is derived from the alert's name so that
it cannot be forgotten. Rendering gives exactly the dict a Prometheus rule
file (and a ``PrometheusRule``'s ``spec``) holds.

A threshold's two alerts (``threshold_alerts``) share the alert's name so that
Alertmanager's inhibition (``critical`` mutes ``warning`` of the same alert)
pairs them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from infra.render.monitoring.contract import NAMESPACE, RUNBOOK_BASE_URL
from infra.settings.monitoring import DurationThreshold, Threshold

Severity = Literal["critical", "warning", "info", "none"]
# A threshold's two alerts, lowest level first.
THRESHOLD_SEVERITIES: tuple[Severity, Severity] = ("warning", "critical")


def runbook_url(alert: str) -> str:
    return f"{RUNBOOK_BASE_URL}#{alert.lower()}"


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    severity: Severity
    summary: str
    description: str
    for_: str = "0s"
    labels: Mapping[str, str] = field(default_factory=dict)

    def render(self) -> dict[str, Any]:
        rule: dict[str, Any] = {"alert": self.name, "expr": self.expr}
        if self.for_ != "0s":
            rule["for"] = self.for_
        # The namespace lets InfoInhibitor and Alertmanager's inhibition pair
        # the platform's alerts even where the expression aggregates it away.
        rule["labels"] = {"severity": self.severity, "namespace": NAMESPACE, **self.labels}
        rule["annotations"] = {
            "summary": self.summary,
            "description": self.description,
            "runbook_url": runbook_url(self.name),
        }
        return rule


@dataclass(frozen=True)
class Recording:
    record: str
    expr: str
    labels: Mapping[str, str] = field(default_factory=dict)

    def render(self) -> dict[str, Any]:
        rule: dict[str, Any] = {"record": self.record, "expr": self.expr}
        if self.labels:
            rule["labels"] = dict(self.labels)
        return rule


Rule = Alert | Recording


@dataclass(frozen=True)
class RuleGroup:
    """Rules evaluated together; a recording rule is visible to the later rules of its group."""

    name: str
    rules: tuple[Rule, ...]
    interval: str | None = None

    def render(self) -> dict[str, Any]:
        group: dict[str, Any] = {"name": self.name}
        if self.interval:
            group["interval"] = self.interval
        group["rules"] = [rule.render() for rule in self.rules]
        return group

    @property
    def recordings(self) -> tuple[Recording, ...]:
        return tuple(rule for rule in self.rules if isinstance(rule, Recording))


@dataclass(frozen=True)
class RuleFile:
    """One rule file (one ``PrometheusRule`` object)."""

    name: str
    groups: tuple[RuleGroup, ...]

    def render(self) -> dict[str, Any]:
        return {"groups": [group.render() for group in self.groups]}

    @property
    def alerts(self) -> tuple[Alert, ...]:
        return tuple(rule for group in self.groups for rule in group.rules if isinstance(rule, Alert))

    @property
    def recordings(self) -> tuple[Recording, ...]:
        return tuple(rec for group in self.groups for rec in group.recordings)


def all_alerts(files: Iterable[RuleFile]) -> tuple[Alert, ...]:
    return tuple(alert for rule_file in files for alert in rule_file.alerts)


def compared_levels(threshold: Threshold | DurationThreshold) -> tuple[float, float]:
    """The warning and critical levels a value is compared against: a percent as a ratio (0 to 1)."""
    scale = 100.0 if isinstance(threshold, Threshold) else 1.0
    return threshold.warning / scale, threshold.critical / scale


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
    """``value > level`` at warning, then at critical.

    ``{level}`` in ``description`` becomes the threshold as people read it (a plain
    replace, not ``str.format``: the text also holds Go template braces).
    """
    percent = isinstance(threshold, Threshold)
    warning, critical = (
        Alert(
            name,
            f"{value}\n> {level:g}",
            severity,
            summary,
            description.replace("{level}", f"{level:.0%}" if percent else f"{level:g} s"),
            for_,
            labels or {},
        )
        for severity, level in zip(THRESHOLD_SEVERITIES, compared_levels(threshold), strict=True)
    )
    return warning, critical
