"""The database's backup and health alerts, built from the real profiles and the backup plan."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra import conventions
from infra.conventions import Naming
from infra.render.database import manifests, plan
from infra.render.monitoring import backups
from infra.render.monitoring import contract as m
from infra.render.monitoring.render import dump_yaml
from infra.render.monitoring.rules import Alert
from tests.infra.render.monitoring.promtool_suite import run_promtool_tests, write_test_files
from tests.infra.render.monitoring.scenarios import HEALTHY, LEAD, AlertKey, Check, Scenario
from tests.infra.render.monitoring.support import stack_settings
from tests.infra.render.monitoring.workload import Phase
from tests.tools import tool

HOUR = 3600
TWICE_DAILY = "0 0 0,12 * * *"


def alert(
    name: str, severity: str = "warning", stack: str = "prod", changes: dict[str, Any] | None = None
) -> Alert:
    rules = backups.backup_rules(stack_settings(stack, changes))
    (found,) = (a for a in rules.alerts if a.name == name and a.severity == severity)
    return found


def test_a_backup_warns_one_missed_daily_run_late_and_pages_two_runs_late() -> None:
    warning, critical = backups.age_thresholds_seconds(stack_settings("prod").database)
    assert (warning, critical) == (30 * HOUR, 54 * HOUR)
    assert alert("DatabaseBackupTooOld", "warning").expr.endswith(f"> {warning}")
    assert alert("DatabaseBackupTooOld", "critical").expr.endswith(f"> {critical}")
    assert "backups run daily" in alert("DatabaseBackupTooOld").description


def test_moving_the_daily_backup_keeps_the_window() -> None:
    moved = stack_settings("prod", {"database.backup_time_utc": "13:30"}).database
    assert backups.age_thresholds_seconds(moved) == (30 * HOUR, 54 * HOUR)


def twice_daily(monkeypatch: pytest.MonkeyPatch) -> None:
    """The backup plan changed to a base backup every 12 hours."""
    monkeypatch.setattr(plan, "backup_schedule", lambda profile: TWICE_DAILY)


def test_changing_the_plans_schedule_changes_the_alerts_window(monkeypatch: pytest.MonkeyPatch) -> None:
    twice_daily(monkeypatch)
    settings = stack_settings("prod")
    backup = manifests.scheduled_backup(
        Naming("prod"), "samokoder", plan.backup_plan(Naming("prod"), settings.database)
    )
    assert backup["spec"]["schedule"] == TWICE_DAILY
    # One 12-hour run missed plus the margin, then two.
    assert alert("DatabaseBackupTooOld", "warning").expr.endswith(f"> {18 * HOUR}")
    assert alert("DatabaseBackupTooOld", "critical").expr.endswith(f"> {30 * HOUR}")
    assert "backups run every 12 h (threshold 18 h)" in alert("DatabaseBackupTooOld").description


def _too_old(age_hours: float, firing: set[str]) -> Scenario:
    keys: set[AlertKey] = {("DatabaseBackupTooOld", severity) for severity in ("warning", "critical")}
    fired = {key for key in keys if key[1] in firing}
    return Scenario(
        f"backup {age_hours:g} h old",
        (Phase(LEAD, HEALTHY), Phase(30, HEALTHY.but(backup_age_hours=age_hours))),
        (Check(LEAD + 29, firing=frozenset(fired), quiet=frozenset(keys - fired)),),
    )


def _promtool_verdict(scenarios: list[Scenario], out: Path) -> str:
    rules = out / "database.yaml"
    rules.write_text(dump_yaml(backups.backup_rules(stack_settings("prod")).render()))
    (file,) = write_test_files(scenarios, [rules], out)
    run = run_promtool_tests(file)
    assert run.returncode == 0, run.output
    return run.output


@pytest.mark.tool
def test_promtool_a_backup_on_time_for_a_daily_plan_is_late_for_a_twice_daily_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "daily").mkdir()
    (tmp_path / "twice").mkdir()
    daily = [_too_old(20, set()), _too_old(32, {"warning"})]
    assert "SUCCESS" in _promtool_verdict(daily, tmp_path / "daily")
    twice_daily(monkeypatch)
    twice = [_too_old(20, {"warning"}), _too_old(32, {"warning", "critical"}), _too_old(10, set())]
    assert "SUCCESS" in _promtool_verdict(twice, tmp_path / "twice")


@pytest.mark.tool
def test_promtool_after_a_cut_over_the_restored_clusters_backup_and_instances_alert(tmp_path: Path) -> None:
    """The running cluster, idle after the cut-over, is still scraped and healthy: its fresh backup and
    running instances must not hide the restored cluster's stale backup or its being down."""
    served = HEALTHY.but(db_cluster=RESTORED, db_idle_cluster=conventions.DATABASE_CLUSTER)
    old: set[AlertKey] = {("DatabaseBackupTooOld", "warning")}
    down: set[AlertKey] = {("DatabaseDown", "critical")}
    scenarios = [
        Scenario(
            "the restored cluster's backup 32 h old, the idle one's 6 h",
            (Phase(LEAD, served), Phase(30, served.but(backup_age_hours=32))),
            (Check(LEAD + 29, firing=frozenset(old), quiet=frozenset(down)),),
        ),
        Scenario(
            "the restored cluster down, the idle one up",
            (Phase(LEAD, served), Phase(10, served.but(db_instances_up=0))),
            (Check(LEAD + 9, firing=frozenset(down), quiet=frozenset(old)),),
        ),
        Scenario(
            "both healthy",
            (Phase(LEAD, served), Phase(30, served)),
            (Check(LEAD + 29, quiet=frozenset(old | down)),),
        ),
    ]
    rules = tmp_path / "database.yaml"
    rules.write_text(dump_yaml(backups.backup_rules(stack_settings("prod", cut_over_to=RESTORED)).render()))
    (file,) = write_test_files(scenarios, [rules], tmp_path)
    run = run_promtool_tests(file)
    assert run.returncode == 0, run.output
    assert "SUCCESS" in run.output


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
        reads = (m.database(conventions.DATABASE_CLUSTER), backups.BACKUP_AGE, m.DRILL, backups.LAST_DRILL)
        assert any(part in rule.expr for part in reads), rule.name
    assert alert("DatabaseDown", "critical").labels["cluster"] == conventions.DATABASE_CLUSTER


RESTORED = "samokoder-db-restore-20261126-0630"


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_after_a_cut_over_every_rule_reads_the_restored_cluster_and_none_the_idle_one(stack: str) -> None:
    rules = backups.backup_rules(stack_settings(stack, cut_over_to=RESTORED))
    rendered = dump_yaml(rules.render())
    assert f'cluster="{conventions.DATABASE_CLUSTER}"' not in rendered
    for rule in rules.alerts:
        reads = (m.database(RESTORED), backups.BACKUP_AGE, m.DRILL, backups.LAST_DRILL)
        assert any(part in rule.expr for part in reads), rule.name
        if "cluster" in rule.labels:
            assert rule.labels["cluster"] == RESTORED, rule.name
    assert any(r.name == "DatabaseDown" and r.labels["cluster"] == RESTORED for r in rules.alerts)


DAY = 86400


@pytest.mark.parametrize(("stack", "days"), [("staging", 7), ("prod", 31)])
def test_a_stale_drill_warns_a_day_past_the_stacks_period_and_pages_a_period_later(
    stack: str, days: int
) -> None:
    profile = stack_settings(stack).database
    assert profile.drill_period_days == days
    assert backups.drill_thresholds_seconds(profile) == ((days + 1) * DAY, (2 * days + 1) * DAY)
    rules = backups.backup_rules(stack_settings(stack))
    stale = [a for a in rules.alerts if a.name == "RestoreDrillStale"]
    (never,) = (a for a in stale if "absent(" in a.expr)
    (warning,) = (a for a in stale if a.severity == "warning" and a is not never)
    (critical,) = (a for a in stale if a.severity == "critical")
    assert warning.expr.endswith(f"> {(days + 1) * DAY}")
    assert critical.expr.endswith(f"> {(2 * days + 1) * DAY}")
    assert "absent" not in warning.expr + critical.expr
    # No drill ever: warned at once (after the hour), as one period missed is.
    assert (never.severity, never.for_) == ("warning", warning.for_)
    assert f"drills run every {days} d (threshold {days + 1} d)" in warning.description
    assert f"drills run every {days} d" in never.description


def _drill_annotation_test(
    rule: Alert, last_success: float | None, description: str, *, job: bool
) -> dict[str, Any]:
    """promtool's check of the one RestoreDrillStale alert firing at 70 minutes, labels and annotations."""
    rendered = rule.render()
    series = (
        f'{m.DRILL_LAST_SUCCESS}{{job="{conventions.DRILL_JOB}", stack="any"}}'
        if last_success is not None
        else 'up{job="unrelated"}'
    )
    return {
        "interval": "1m",
        "input_series": [{"series": series, "values": f"{last_success or 1}+0x80"}],
        "alert_rule_test": [
            {
                "eval_time": "70m",
                "alertname": "RestoreDrillStale",
                "exp_alerts": [
                    {
                        "exp_labels": {
                            **rendered["labels"],
                            **({"job": conventions.DRILL_JOB} if job else {}),
                        },
                        "exp_annotations": {**rendered["annotations"], "description": description},
                    }
                ],
            }
        ],
    }


@pytest.mark.tool
@pytest.mark.parametrize(("stack", "days"), [("staging", 7), ("prod", 31)])
def test_promtool_a_stale_drill_says_its_age_and_a_stack_without_one_says_none_passed(
    stack: str, days: int, tmp_path: Path
) -> None:
    rules = backups.backup_rules(stack_settings(stack))
    stale = [a for a in rules.alerts if a.name == "RestoreDrillStale"]
    (never,) = (a for a in stale if "absent(" in a.expr)
    (warning,) = (a for a in stale if a.severity == "warning" and a is not never)
    # absent()'s value is 1, not an age: no template may read it.
    assert "{{" not in never.description
    assert "no time of a restore drill that passed" in never.description
    # At 70 minutes the last pass is a period and a day and a half old: "8d 12h 0m 0s" on staging.
    age = (days + 1.5) * DAY
    text = warning.description.replace("{{ $value | humanizeDuration }}", f"{days + 1}d 12h 0m 0s")
    document = [
        _drill_annotation_test(never, None, never.description, job=True),
        _drill_annotation_test(warning, 70 * 60 - age, text, job=False),
    ]
    _promtool_passes(tmp_path, rules, document)


def _drill(name: str, load: Any, firing: set[AlertKey], quiet: set[AlertKey], minutes: int = 70) -> Scenario:
    return Scenario(
        name,
        (Phase(LEAD, HEALTHY), Phase(minutes, load)),
        (Check(LEAD + minutes - 1, firing=frozenset(firing), quiet=frozenset(quiet)),),
    )


@pytest.mark.tool
@pytest.mark.parametrize(("stack", "days"), [("staging", 7), ("prod", 31)])
def test_promtool_the_drill_alerts_fire_and_stay_quiet_at_each_stacks_period(
    stack: str, days: int, tmp_path: Path
) -> None:
    stale: set[AlertKey] = {("RestoreDrillStale", "warning"), ("RestoreDrillStale", "critical")}
    warning: set[AlertKey] = {("RestoreDrillStale", "warning")}
    failed: set[AlertKey] = {("RestoreDrillFailed", "warning")}
    scenarios = [
        _drill("a day short of the period", HEALTHY.but(drill_age_days=days - 1), set(), stale | failed),
        _drill(
            "half a day past the margin", HEALTHY.but(drill_age_days=days + 1.5), warning, stale - warning
        ),
        _drill("two periods missed", HEALTHY.but(drill_age_days=2 * days + 1.5), stale, failed),
        _drill("never a drill", HEALTHY.but(drill_age_days=None), warning, stale - warning),
        _drill("the last drill failed", HEALTHY.but(drill_passed=False), failed, stale, minutes=15),
    ]
    rules = tmp_path / "database.yaml"
    rules.write_text(dump_yaml(backups.backup_rules(stack_settings(stack)).render()))
    (file,) = write_test_files(scenarios, [rules], tmp_path)
    run = run_promtool_tests(file)
    assert run.returncode == 0, run.output
    assert "SUCCESS" in run.output
    # What is on time for prod (30 days) is two periods late for staging.
    if stack == "staging":
        (tmp_path / "late").mkdir()
        late = [_drill("prod's on-time age", HEALTHY.but(drill_age_days=30), stale, set())]
        (again,) = write_test_files(late, [rules], tmp_path / "late")
        assert run_promtool_tests(again).returncode == 0


@pytest.mark.tool
def test_promtool_after_a_cut_over_the_idle_clusters_drill_does_not_speak_for_the_restored_one(
    tmp_path: Path,
) -> None:
    """A drill of samokoder-db's archive passed an hour ago; nothing has restored the restored
    cluster's own archive yet, so the no-drill warning fires for it."""
    rules = backups.backup_rules(stack_settings("prod", cut_over_to=RESTORED))
    (never,) = (a for a in rules.alerts if a.name == "RestoreDrillStale" and "absent(" in a.expr)
    # The running cluster's first archive's group: no archive label.
    idle_pass = f'{m.DRILL_LAST_SUCCESS}{{job="{conventions.DRILL_JOB}", stack="prod"}}'
    expected = {**never.render()["labels"], "job": conventions.DRILL_JOB, "archive": RESTORED}
    document = [
        {
            "interval": "1m",
            "input_series": [{"series": idle_pass, "values": "-3600+0x80"}],
            "alert_rule_test": [
                {
                    "eval_time": "70m",
                    "alertname": "RestoreDrillStale",
                    "exp_alerts": [
                        {"exp_labels": expected, "exp_annotations": never.render()["annotations"]}
                    ],
                }
            ],
        }
    ]
    _promtool_passes(tmp_path, rules, document)


def _promtool_passes(tmp_path: Path, rules: Any, tests: list[dict[str, Any]]) -> None:
    """promtool's verdict on ``tests`` against the rule file ``rules``."""
    document = {"rule_files": [str(tmp_path / "database.yaml")], "evaluation_interval": "1m", "tests": tests}
    (tmp_path / "database.yaml").write_text(dump_yaml(rules.render()))
    (tmp_path / "test.yaml").write_text(dump_yaml(document))
    run = subprocess.run(
        [str(tool("promtool")), "test", "rules", str(tmp_path / "test.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
