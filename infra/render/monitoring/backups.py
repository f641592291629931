"""Alerts on the database's backups and health: base backups, WAL archiving, replicas, restore drills.

The recovery point rests on two things: a recent base backup and an unbroken
WAL archive after it. Each has an alert for "too old" and for "failing",
read from the Barman Cloud plugin's and CloudNativePG's own metrics. That they
restore is the restore drill's to show (samokoder-infra restore-drill, which
pushes its outcome to the Pushgateway): an alert when the last good drill is
older than the stack's drill period allows, or there never was one.
"""

from __future__ import annotations

from infra.render.database import plan
from infra.render.monitoring import contract as m
from infra.render.monitoring.promql import selector
from infra.render.monitoring.rules import Alert, Recording, RuleFile, RuleGroup, Severity, threshold_alerts
from infra.settings.database import DatabaseProfile
from infra.settings.stack import StackSettings

LABELS = {"service": "database"}
PER_CLUSTER = "max by (namespace, cluster)"
PER_POD = "by (namespace, cluster, pod)"
BACKUP_AGE = "samokoder:database_backup:age_seconds"
READY = 'value="ready"'
# One run of the backup plan missed is a warning, two a page; the margin covers a slow backup.
MARGIN_HOURS = 6
DAY_HOURS = 24
# A drill's run is late by its workflow's queue and its own restore (up to restore-drill's timeout).
DRILL_MARGIN_HOURS = 24
LAST_DRILL = "samokoder:restore_drill:last_success_age_seconds"


def backup_every_hours(profile: DatabaseProfile) -> int:
    return plan.hours_between_backups(plan.backup_schedule(profile))


def age_thresholds_seconds(profile: DatabaseProfile) -> tuple[int, int]:
    """The backup's age that warns (one run missed) and that pages (two)."""
    every = backup_every_hours(profile)
    warning, critical = ((runs * every + MARGIN_HOURS) * 3600 for runs in (1, 2))
    return warning, critical


def backup_rules(settings: StackSettings) -> RuleFile:
    """The database's rule file: its base backups, its WAL archive, then its instances, of the cluster
    that serves the app. After a cut-over the running cluster is still scraped (its own PodMonitor)
    but not alerted on: it serves nothing, and an alert with no cluster in it (DatabaseDown) must not
    be kept quiet by it."""
    cluster = settings.database_cluster
    rules = (
        *base_backup_rules(settings.database, cluster),
        *wal_archive_alerts(cluster),
        *instance_alerts(settings),
        *drill_alerts(settings.database, cluster, plan.drill_group(settings)),
    )
    return RuleFile("database", (RuleGroup("samokoder-database", rules),))


def base_backup_rules(profile: DatabaseProfile, cluster: str) -> tuple[Recording | Alert, ...]:
    """The last base backup's age (recorded, then too old twice over), a failed one, none reported."""
    database = m.database(cluster)
    last_backup = selector(m.LAST_BACKUP, database)
    up = selector(m.CNPG_UP, database)
    warning_age, critical_age = age_thresholds_seconds(profile)
    every = backup_every_hours(profile)
    cadence = "daily" if every == DAY_HOURS else f"every {every} h"
    return (
        Recording(BACKUP_AGE, f"time() - {PER_CLUSTER} ({last_backup})"),
        backup_too_old("warning", warning_age, cadence),
        backup_too_old("critical", critical_age, cadence),
        Alert(
            "DatabaseBackupFailed",
            f"{PER_CLUSTER} ({selector(m.LAST_FAILED_BACKUP, database)})\n> {PER_CLUSTER} ({last_backup})",
            "warning",
            "The last base backup of the database failed",
            "The most recent base backup attempt of {{ $labels.cluster }} failed after the last "
            "successful one.",
            for_="5m",
            labels=LABELS,
        ),
        Alert(
            "DatabaseBackupMetricsAbsent",
            f"absent({last_backup})\nand on() count({up} == 1) > 0",
            "warning",
            "The database reports no backup status",
            "The database is up but the Barman Cloud plugin exports no backup timestamp: "
            "backups are not monitored.",
            for_="1h",
            labels=LABELS,
        ),
    )


def backup_too_old(severity: Severity, seconds: int, cadence: str) -> Alert:
    return Alert(
        "DatabaseBackupTooOld",
        f"{BACKUP_AGE} > {seconds}",
        severity,
        "No recent base backup of the database",
        "The last successful base backup of {{ $labels.cluster }} finished "
        f"{{{{ $value | humanizeDuration }}}} ago; backups run {cadence} "
        f"(threshold {seconds // 3600} h). Restores replay more WAL the older it gets.",
        for_="15m",
        labels=LABELS,
    )


def wal_archive_alerts(cluster: str) -> tuple[Alert, ...]:
    """WAL archiving failing outright, and segments left waiting for it."""
    database = m.database(cluster)
    return (
        Alert(
            "DatabaseWalArchivingFailing",
            f"sum {PER_POD} (increase({selector(m.WAL_ARCHIVE_FAILED, database)}[10m])) > 0\n"
            f"unless sum {PER_POD} (increase({selector(m.WAL_ARCHIVED, database)}[10m])) > 0",
            "critical",
            "WAL archiving of the database fails",
            "{{ $labels.pod }} has failed to archive WAL for 10 minutes without a single success: "
            "the recovery point is no longer advancing and pg_wal is filling.",
            for_="5m",
            labels=LABELS,
        ),
        Alert(
            "DatabaseWalArchivingStalled",
            f"max {PER_POD} ({selector(m.WAL_ARCHIVE_STATUS, database, READY)}) > 0",
            "critical",
            "WAL segments wait to be archived",
            "{{ $value }} WAL segment(s) of {{ $labels.pod }} have waited 10 minutes to be archived: "
            "the recovery point is falling behind.",
            for_="10m",
            labels=LABELS,
        ),
    )


def instance_alerts(settings: StackSettings) -> tuple[Alert, ...]:
    """The instances: a replica lagging, fewer ready than the profile runs, none at all."""
    cluster = settings.database_cluster
    up = selector(m.CNPG_UP, m.database(cluster))
    instances = settings.database.instances
    return (
        *threshold_alerts(
            "DatabaseReplicationLag",
            f"max {PER_POD} ({selector(m.REPLICATION_LAG, m.database(cluster))})",
            settings.thresholds.db_replication_lag_seconds,
            summary="Database replica {{ $labels.pod }} lags",
            description="Replica {{ $labels.pod }} replays {{ $value | humanizeDuration }} behind the "
            "primary (threshold {level}); a failover to it would lose that much.",
            for_="5m",
            labels=LABELS,
        ),
        Alert(
            "DatabaseInstancesNotReady",
            f"count by (namespace, cluster) ({up} == 1) < {instances}\n"
            f"or count by (namespace, cluster) ({up} == 0) > 0",
            "warning",
            "Database instances are not ready",
            f"Fewer than {instances} instance(s) of {{{{ $labels.cluster }}}} run PostgreSQL for "
            "10 minutes: the cluster has less redundancy than it should.",
            for_="10m",
            labels=LABELS,
        ),
        Alert(
            "DatabaseDown",
            f"absent({up} == 1)",
            "critical",
            "The database has no running instance",
            "No instance of the database has reported PostgreSQL up for 2 minutes: the app cannot "
            "read or write.",
            for_="2m",
            # absent() keeps no label of a comparison: name the cluster here.
            labels={**LABELS, "cluster": cluster},
        ),
    )


def drill_thresholds_seconds(profile: DatabaseProfile) -> tuple[int, int]:
    """The last good drill's age that warns (one drill missed or failed) and that pages (two)."""
    period = profile.drill_period_days * DAY_HOURS
    warning, critical = ((runs * period + DRILL_MARGIN_HOURS) * 3600 for runs in (1, 2))
    return warning, critical


def drill_alerts(
    profile: DatabaseProfile, cluster: str, archive: str | None
) -> tuple[Recording | Alert, ...]:
    """The last good restore drill too old (or none ever), and a drill that just failed; a drill
    restores ``archive`` (plan.drill_group), the one of ``cluster``, which serves the app."""
    # The group the drill pushes to (drill.push_path); "" matches the running cluster's first
    # archive's group, which carries no archive label.
    of_archive = f'archive="{archive or ""}"'
    last = selector(m.DRILL_LAST_SUCCESS, m.DRILL, of_archive)
    warning, critical = drill_thresholds_seconds(profile)
    days = profile.drill_period_days
    labels = {**LABELS, "cluster": cluster}

    def stale(severity: Severity, seconds: int) -> Alert:
        return Alert(
            "RestoreDrillStale",
            f"{LAST_DRILL} > {seconds}",
            severity,
            "No recent restore drill of the database passed",
            "The last restore drill that passed ended {{ $value | humanizeDuration }} ago; drills run "
            f"every {days} d (threshold {seconds // 86400} d). Backups nobody restored are untested: "
            "run samokoder-infra restore-drill.",
            for_="1h",
            labels=labels,
        )

    # Its own rule, at the warning's severity: absent()'s value is 1, not an age, so the stale rule's
    # text would read "ended 1s ago" for a stack where no drill ever passed. absent() keeps its
    # selector's equality labels (job, and archive after a cut-over or a rebuild): the alert's labels
    # name the cluster.
    never = Alert(
        "RestoreDrillStale",
        f"absent({last})",
        "warning",
        "No restore drill of the database has passed yet",
        "The Pushgateway holds no time of a restore drill that passed: none has on this stack yet (or "
        f"the Pushgateway lost its volume); drills run every {days} d. Backups nobody restored are "
        "untested: run samokoder-infra restore-drill.",
        for_="1h",
        labels=labels,
    )

    return (
        Recording(LAST_DRILL, f"time() - max({last})"),
        stale("warning", warning),
        never,
        stale("critical", critical),
        Alert(
            "RestoreDrillFailed",
            f"max({selector(m.DRILL_SUCCESS, m.DRILL, of_archive)}) == 0",
            "warning",
            "The last restore drill of the database failed",
            "The last restore drill could not restore the backups into a copy, or the copy lacked a "
            "table or rows the running database has: its job's log says which.",
            for_="5m",
            labels=labels,
        ),
    )
