"""Prometheus rules as data: alerting and recording rules, groups, rule files.

Every alert carries ``severity``, ``summary``, ``description`` and
``runbook_url``; the runbook link is derived from the alert's name so that
it cannot be forgotten. Rendering gives exactly the dict a Prometheus rule
file (and a ``PrometheusRule``'s ``spec``) holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from infra.render.monitoring.contract import NAMESPACE, RUNBOOK_BASE_URL

Severity = Literal["critical", "warning", "info", "none"]


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
    def alerts(self) -> tuple[Alert, ...]:
        return tuple(rule for rule in self.rules if isinstance(rule, Alert))

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
        return tuple(alert for group in self.groups for alert in group.alerts)

    @property
    def recordings(self) -> tuple[Recording, ...]:
        return tuple(rec for group in self.groups for rec in group.recordings)


def all_alerts(files: Iterable[RuleFile]) -> tuple[Alert, ...]:
    return tuple(alert for rule_file in files for alert in rule_file.alerts)
