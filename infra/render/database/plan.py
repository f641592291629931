"""Where a stack's database lives and where its backups go: names and settings in one place.

The ``Database`` component deploys from these values, the restore command
renders a recovery cluster from them, and the backup drill applies them to a
real ``barman-cloud``, so the three cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from infra.conventions import DATABASE_CLUSTER, Naming
from infra.settings.database import DatabaseProfile
from infra.settings.stack import StackSettings

CLUSTER = DATABASE_CLUSTER
DATABASE = "samokoder"
OWNER = "samokoder"
OBJECT_STORE = "samokoder-backups"


def pooler_name(cluster: str) -> str:
    """The Pooler in front of a cluster's primary, and so its Service: CloudNativePG names the Service
    after the Pooler (pkg/specs/pgbouncer/services.go:61-64 at v1.30.0)."""
    return f"{cluster}-pooler-rw"


# CloudNativePG keeps the owner's generated credentials in "<cluster>-app".
POOLER = pooler_name(CLUSTER)
POOLER_PORT = 5432
APP_CREDENTIALS_SECRET = f"{CLUSTER}-app"
BACKUP_CREDENTIALS_SECRET = f"{CLUSTER}-backup-credentials"
ACCESS_KEY_ID_KEY = "ACCESS_KEY_ID"
SECRET_ACCESS_KEY_KEY = "ACCESS_SECRET_KEY"  # pragma: allowlist secret
REGION_KEY = "REGION"

BARMAN_PLUGIN = "barman-cloud.cloudnative-pg.io"
S3_ENDPOINT = "https://storage.yandexcloud.net"
S3_REGION = "ru-central1"
S3_CHECKSUM_SETTINGS = ("AWS_REQUEST_CHECKSUM_CALCULATION", "AWS_RESPONSE_CHECKSUM_VALIDATION")
WAL_MAX_PARALLEL = 4

# PostgreSQL 15 (the app's major version), CloudNativePG's standard image.
POSTGRES_IMAGE = "ghcr.io/cloudnative-pg/postgresql:15.14-standard-bookworm"


@dataclass(frozen=True)
class BackupPlan:
    """The object-store side of backups: bucket, path, retention, compression, schedule."""

    bucket: str
    # The running cluster's folder under the path: its own name until a rebuild gives it another.
    server_name: str
    retention_days: int
    # CloudNativePG's six-field cron (seconds first), in UTC.
    schedule: str
    archive_timeout_seconds: int
    # Whether the schedule takes a base backup as soon as it is created (ScheduledBackup
    # ``immediate``); not for a rebuild, whose first one is the pre-migration Backup (backup_plan).
    immediate: bool = True
    # gzip: every barman-cloud build has it (snappy and lz4 need optional
    # modules); WAL segments of text-heavy rows shrink several-fold.
    wal_compression: str = "gzip"
    data_compression: str = "gzip"

    @property
    def destination_path(self) -> str:
        """``s3://<bucket>/<prefix>``; barman-cloud adds ``/<server name>/{base,wals}``."""
        return f"s3://{self.bucket}/postgres"

    @property
    def retention_policy(self) -> str:
        """The ObjectStore's ``retentionPolicy`` (``XXd``)."""
        return f"{self.retention_days}d"


def backup_bucket_name(naming: Naming) -> str:
    # Bucket names are global in Object Storage; the stack prefix keeps them apart.
    return naming.cloud("db-backups")


def backup_schedule(profile: DatabaseProfile) -> str:
    """When base backups start: daily at the profile's time, as CloudNativePG's six-field cron."""
    hours, minutes = profile.backup_time_utc.split(":")
    return f"0 {int(minutes)} {int(hours)} * * *"


def hours_between_backups(schedule: str) -> int:
    """The longest wait from one scheduled base backup to the next, read from the cron itself.

    The backup alerts derive their windows from this, so a new schedule moves them with it.
    Only a schedule that starts at fixed hours of every day can be read (``0 30 2 * * *``,
    ``0 0 0,12 * * *``); any other is refused rather than guessed.
    """
    fields = schedule.split()
    fixed = len(fields) == 6 and fields[0].isdigit() and fields[1].isdigit() and fields[3:] == ["*"] * 3
    hours = sorted({int(hour) for hour in fields[2].split(",") if hour.isdigit()}) if fixed else []
    if not hours or len(hours) != len(fields[2].split(",")) or hours[-1] > 23:
        raise ValueError(f"cannot tell the hours between base backups of the schedule {schedule!r}")
    # The last run of a day waits for the first of the next.
    return max(later - earlier for earlier, later in zip(hours, [*hours[1:], hours[0] + 24], strict=True))


def backup_plan(naming: Naming, profile: DatabaseProfile) -> BackupPlan:
    return BackupPlan(
        bucket=backup_bucket_name(naming),
        server_name=profile.server_name,
        retention_days=profile.backup_retention_days,
        schedule=backup_schedule(profile),
        archive_timeout_seconds=profile.archive_timeout_seconds,
        # After a rebuild's recovery an immediate backup would be a second full base backup in the
        # migration Job's wait: it is created with the Cluster, so it is older than the Job's
        # pre-migration Backup, and CloudNativePG runs a cluster's backups one at a time, oldest
        # first (api/v1/backup_funcs.go:169-192, internal/controller/backup_controller.go:219 at
        # v1.30.0). The pre-migration Backup, always there in an empty cluster, is the new archive's
        # first. Changing it later is harmless: CloudNativePG reads ``immediate`` only before its
        # first check of the schedule (internal/controller/scheduledbackup_controller.go:198).
        immediate=profile.recover_from is None,
    )


def archive_name(cluster: str, server_name: str) -> str:
    """The server name ``cluster`` archives under: the running cluster's is the settings'
    ``server_name`` (its own name until a rebuild gives it another), a restored cluster's its own
    (manifests.recovery_cluster)."""
    return server_name if cluster == CLUSTER else cluster


def drill_group(settings: StackSettings) -> str | None:
    """The archive a restore drill of the served cluster restores, as its Pushgateway group names it:
    None for the running cluster's first archive, whose group predates archives having their own."""
    archive = archive_name(settings.database_cluster, settings.database.server_name)
    return None if archive == CLUSTER else archive


def served_backup_plan(naming: Naming, settings: StackSettings) -> BackupPlan:
    """The backup plan read from the archive of the cluster that serves the app (a cut-over's restored
    cluster, else the running one): what a throwaway copy restores, so that it holds the live data."""
    backups = backup_plan(naming, settings.database)
    return replace(backups, server_name=archive_name(settings.database_cluster, backups.server_name))
