"""The database's backup and health alerts, built from the real profiles."""

from __future__ import annotations

from typing import Any

from infra import conventions
from infra.render.monitoring import backups
from infra.render.monitoring import contract as m
from infra.render.monitoring.rules import Alert
from tests.infra.render.monitoring.support import stack_settings


def alert(
    name: str, severity: str = "warning", stack: str = "prod", changes: dict[str, Any] | None = None
) -> Alert:
    rules = backups.backup_rules(stack_settings(stack, changes))
    (found,) = (a for a in rules.alerts if a.name == name and a.severity == severity)
    return found


def test_a_backup_warns_one_missed_daily_run_late_and_pages_two_runs_late() -> None:
    warning, critical = backups.age_thresholds_seconds()
    assert (warning, critical) == (30 * 3600, 54 * 3600)
    assert alert("DatabaseBackupTooOld", "warning").expr.endswith(f"> {warning}")
    assert alert("DatabaseBackupTooOld", "critical").expr.endswith(f"> {critical}")


def test_the_instances_expected_ready_are_the_profiles() -> None:
    assert "< 3\n" in alert("DatabaseInstancesNotReady").expr
    assert "< 1\n" in alert("DatabaseInstancesNotReady", stack="staging").expr
    changed = alert("DatabaseInstancesNotReady", stack="staging", changes={"database.instances": 2})
    assert "< 2\n" in changed.expr
    assert "Fewer than 2 instance(s)" in changed.description


def test_the_replication_lag_levels_are_the_profiles() -> None:
    lag = {"thresholds.db_replication_lag_seconds": {"warning": 45, "critical": 120}}
    assert alert("DatabaseReplicationLag", "warning", changes=lag).expr.endswith("> 45")
    assert alert("DatabaseReplicationLag", "critical", changes=lag).expr.endswith("> 120")


def test_every_rule_reads_the_conventions_database_cluster() -> None:
    rules = backups.backup_rules(stack_settings("staging"))
    assert rules.name == "database"
    for rule in rules.alerts:
        assert m.DATABASE in rule.expr or backups.BACKUP_AGE in rule.expr, rule.name
    assert alert("DatabaseDown", "critical").labels["cluster"] == conventions.DATABASE_CLUSTER
