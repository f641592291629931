"""Where a stack's database lives and where its backups go: names and settings in one place.

The ``Database`` component deploys from these values, the restore command
renders a recovery cluster from them, and the backup drill applies them to a
real ``barman-cloud``, so the three cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.conventions import DATABASE_CLUSTER, Naming
from infra.settings.database import DatabaseProfile

CLUSTER = DATABASE_CLUSTER
DATABASE = "samokoder"
OWNER = "samokoder"
OBJECT_STORE = "samokoder-backups"
# CloudNativePG names the pooler's Service after the Pooler and keeps the
# owner's generated credentials in "<cluster>-app".
POOLER = f"{CLUSTER}-pooler-rw"
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
# gzip: every barman-cloud build has it (snappy and lz4 need optional
# modules); WAL segments of text-heavy rows shrink several-fold.
WAL_COMPRESSION = "gzip"
DATA_COMPRESSION = "gzip"
WAL_MAX_PARALLEL = 4

# PostgreSQL 15 (the app's major version), CloudNativePG's standard image.
POSTGRES_IMAGE = "ghcr.io/cloudnative-pg/postgresql:15.14-standard-bookworm"


@dataclass(frozen=True)
class BackupPlan:
    """The object-store side of backups: bucket, path, retention, compression, schedule."""

    bucket: str
    retention_days: int
    # CloudNativePG's six-field cron (seconds first), in UTC.
    schedule: str
    archive_timeout_seconds: int
    wal_compression: str = WAL_COMPRESSION
    data_compression: str = DATA_COMPRESSION

    @property
    def destination_path(self) -> str:
        """``s3://<bucket>/<prefix>``; barman-cloud adds ``/<server name>/{base,wals}``."""
        return f"s3://{self.bucket}/postgres"

    @property
    def retention_policy(self) -> str:
        """The ObjectStore's ``retentionPolicy`` (``XXd``)."""
        return f"{self.retention_days}d"

    @property
    def barman_retention_policy(self) -> str:
        """The same policy as barman-cloud-backup-delete spells it."""
        return f"RECOVERY WINDOW OF {self.retention_days} DAYS"


def backup_bucket_name(naming: Naming) -> str:
    # Bucket names are global in Object Storage; the stack prefix keeps them apart.
    return naming.cloud("db-backups")


def backup_plan(naming: Naming, profile: DatabaseProfile) -> BackupPlan:
    hours, minutes = profile.backup_time_utc.split(":")
    return BackupPlan(
        bucket=backup_bucket_name(naming),
        retention_days=profile.backup_retention_days,
        schedule=f"0 {int(minutes)} {int(hours)} * * *",
        archive_timeout_seconds=profile.archive_timeout_seconds,
    )
