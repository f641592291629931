"""Everything the monitoring stack deploys for one stack, generated at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.render.monitoring.alertmanager import alertmanager_config
from infra.render.monitoring.alerts import platform_rules
from infra.render.monitoring.backups import backup_rules
from infra.render.monitoring.canary import canary_rules
from infra.render.monitoring.dashboards import dashboards
from infra.render.monitoring.rules import RuleFile
from infra.render.monitoring.slo import slo_rules
from infra.settings.stack import StackSettings


@dataclass(frozen=True)
class MonitoringArtifacts:
    rule_files: tuple[RuleFile, ...]
    alertmanager: dict[str, Any]
    dashboards: dict[str, dict[str, Any]]


def rule_files(settings: StackSettings) -> tuple[RuleFile, ...]:
    return (*platform_rules(settings), backup_rules(settings), canary_rules(settings), *slo_rules(settings))


def generate(settings: StackSettings) -> MonitoringArtifacts:
    return MonitoringArtifacts(
        rule_files=rule_files(settings),
        alertmanager=alertmanager_config(settings.alerting),
        dashboards=dashboards(settings),
    )
