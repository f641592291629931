"""The CloudNativePG cluster, its backups, a rebuild from them, and a restore request."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import Field, ValidationInfo, field_validator, model_validator

from infra.conventions import DATABASE_CLUSTER
from infra.settings.base import Clock, StorageClass, StrictModel, is_production

# The audit's DR target is an RPO under 6 h; continuous WAL archiving does far
# better, bounded by how long a partly filled WAL segment may wait.
MAX_ARCHIVE_TIMEOUT_SECONDS = 300
BACKUP_RETENTION_FLOOR_DAYS = 7
# The audit asks for restore drills; one a quarter is the least that still calls them regular.
MAX_DRILL_PERIOD_DAYS = 92
PRODUCTION_BACKUP_RETENTION_FLOOR_DAYS = 30
# What one PostgreSQL instance needs to serve at all, requests being limits (Guaranteed QoS: past
# the limit the kernel kills it). PostgreSQL 15's defaults take a good part of half a GiB: shared_buffers
# 128MB and max_connections 100 (postgresql.conf.sample of 15.18, :127 and :65, as Debian's
# postgresql-15 installs it in /usr/share/postgresql/15/), each backend with memory of its own, beside
# the CloudNativePG instance manager in the same container.
MEMORY_FLOOR_GB = 0.5
# Half a core: below it the instance is throttled while it checkpoints and archives WAL, and the
# archive_timeout bound on the recovery point stops holding.
CPU_FLOOR_CORES = 0.5
# Production serves every replica of the API and the worker through the pooler from one primary.
PRODUCTION_MEMORY_FLOOR_GB = 2.0
PRODUCTION_CPU_FLOOR_CORES = 1.0
# Each floor: every stack's, a production stack's, its unit, and why (the end of the refusal).
FLOORS = {
    "memory_gb": (
        MEMORY_FLOOR_GB,
        PRODUCTION_MEMORY_FLOOR_GB,
        "GiB",
        ": PostgreSQL's own defaults (128 MB of shared buffers, 100 connections) and the operator's "
        "instance manager need it, and an instance at its limit is killed, not slowed",
    ),
    "cpu_cores": (
        CPU_FLOOR_CORES,
        PRODUCTION_CPU_FLOOR_CORES,
        "cores",
        ": below it the instance is throttled while it checkpoints and archives WAL, and the recovery "
        "point falls behind archive_timeout_seconds",
    ),
    "backup_retention_days": (
        BACKUP_RETENTION_FLOOR_DAYS,
        PRODUCTION_BACKUP_RETENTION_FLOOR_DAYS,
        "days",
        "",
    ),
}


# A server name is a folder of the bucket (``postgres/<name>/``) and a plugin parameter: kept to
# what a Kubernetes object may be called, so a typo cannot reach into another path.
SERVER_NAME = r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"


def _with_offset(value: datetime | None) -> datetime | None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"must carry a UTC offset, e.g. 2026-11-26T10:00:00+03:00 (got {value.isoformat()})")
    return value


class RecoverFrom(StrictModel):
    """Where a cluster created in an empty Kubernetes cluster takes its data: an archive in the bucket."""

    server_name: str = Field(
        pattern=SERVER_NAME,
        description="the archive to recover, by its server name: what `database.server_name` was for the "
        "lost cluster (`samokoder-db` if it was never rebuilt)",
    )
    target_time: datetime | None = Field(
        default=None,
        description="recover to this moment (with its UTC offset) instead of the last archived WAL",
    )

    _offset = field_validator("target_time")(_with_offset)

    @field_validator("target_time")
    @classmethod
    def _not_ahead(cls, value: datetime | None) -> datetime | None:
        # PostgreSQL ends a recovery that runs out of WAL before its target with FATAL "recovery
        # ended before configured recovery target was reached" (PostgreSQL 15
        # src/backend/access/transam/xlogrecovery.c, PerformWalRecovery): a target not yet come
        # would fail the rebuild's full-recovery Job after it has copied the whole base backup.
        # A past moment stays past, so the setting may stay as it is after the rebuild.
        if value is not None and value.utcoffset() is not None and value > datetime.now(UTC):
            raise ValueError(
                f"{value.isoformat()} is in the future: a recovery stops at a moment the archive "
                "already holds"
            )
        return value


class DatabaseProfile(StrictModel):
    """The CloudNativePG cluster: size, placement and backups."""

    instances: int = Field(le=5, description="PostgreSQL instances, spread over the zones")
    storage_gb: int = Field(ge=10, le=4096, description="each instance's volume, GiB")
    storage_class: StorageClass = Field(description="the volumes' storage class")
    # Requests equal limits: Guaranteed QoS, so the kernel never picks
    # Postgres first under memory pressure.
    cpu_cores: float = Field(
        gt=0,
        le=32,
        description=f"CPU of each instance, cores (requests = limits): at least {CPU_FLOOR_CORES:g}, "
        f"{PRODUCTION_CPU_FLOOR_CORES:g} in production",
    )
    memory_gb: float = Field(
        gt=0,
        le=256,
        description=f"memory of each instance, GiB (requests = limits): at least {MEMORY_FLOOR_GB:g}, "
        f"{PRODUCTION_MEMORY_FLOOR_GB:g} in production",
    )
    backup_retention_days: int = Field(
        le=365,
        description=f"how far back the backups reach, days: at least {BACKUP_RETENTION_FLOOR_DAYS}, "
        f"{PRODUCTION_BACKUP_RETENTION_FLOOR_DAYS} in production",
    )
    # A daily base backup starts at this time (UTC, the operator's clock).
    backup_time_utc: Clock
    archive_timeout_seconds: int = Field(
        gt=0,
        description="longest wait before a partly filled WAL segment is archived: the recovery point "
        f"(at most {MAX_ARCHIVE_TIMEOUT_SECONDS})",
    )
    pooler_instances: int = Field(ge=1, le=10, description="PgBouncer pods in front of the primary")
    server_name: str = Field(
        default=DATABASE_CLUSTER,
        pattern=SERVER_NAME,
        description="the name the cluster archives its WAL and base backups under (`postgres/<name>/` in "
        "the bucket); a rebuild gives it a new one and it keeps it: never change it on a running cluster",
    )
    # CloudNativePG reads `bootstrap` only to create the first instance of a cluster that has none, and
    # refuses even that once it was initialised (internal/controller/cluster_controller.go:1102-1103,
    # cluster_create.go:1134-1160 at v1.30.0); its webhook does not compare it on an update
    # (internal/webhook/v1/cluster_webhook.go:227-250). So a later `pulumi up` never re-bootstraps.
    recover_from: RecoverFrom | None = Field(
        default=None,
        description="create the cluster by recovery from this archive instead of an empty database "
        "(docs/runbooks/losing-the-cluster.md); read only when the cluster is created, so it may stay set",
    )
    # How often the restore drill proves the backups restore (samokoder-infra restore-drill, run by
    # .github/workflows/backup-drill.yml); RestoreDrillStale pages when the last good one is older.
    drill_period_days: int = Field(
        ge=1,
        le=MAX_DRILL_PERIOD_DAYS,
        description="days between restore drills: a backup nobody restored for longer is an untested "
        f"one (at most {MAX_DRILL_PERIOD_DAYS}, a quarter)",
    )

    @field_validator("instances")
    @classmethod
    def _at_least_one(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"must be at least 1 (got {value}): a cluster with no instance serves nothing")
        return value

    @field_validator(*FLOORS)
    @classmethod
    def _floors(cls, value: float, info: ValidationInfo) -> float:
        every, production, unit, why = FLOORS[str(info.field_name)]
        floor = production if is_production(info) else every
        if value < floor:
            stack = "a production stack" if is_production(info) else "every stack"
            raise ValueError(f"must be at least {floor:g} {unit} for {stack} (got {value:g}){why}")
        return value

    @field_validator("archive_timeout_seconds")
    @classmethod
    def _rpo_bound(cls, value: int) -> int:
        if value > MAX_ARCHIVE_TIMEOUT_SECONDS:
            raise ValueError(
                f"must be at most {MAX_ARCHIVE_TIMEOUT_SECONDS} s (got {value}): a longer wait for a WAL "
                "switch lets the recovery point fall more than 5 minutes behind"
            )
        return value

    @model_validator(mode="after")
    def _a_new_archive_for_a_rebuild(self) -> DatabaseProfile:
        # A new cluster's first archiving checks that its folder holds no WAL (plugin-barman-cloud
        # v0.13.0 internal/cnpgi/common/wal.go:164-170 and restore/restore.go:291-293 through
        # common/check.go:32-52; barman 3.19.1 barman/xlog.py:574 "Expected empty archive"): a
        # rebuild archiving under its source's name would fail there, or without the check write
        # a second timeline over the archive it came from.
        if self.recover_from is not None and self.recover_from.server_name == self.server_name:
            raise ValueError(
                f"server_name must differ from recover_from.server_name ({self.server_name!r}): the "
                "rebuilt cluster archives under a new name and only reads the old archive"
            )
        return self

    @model_validator(mode="after")
    def _ha_in_production(self, info: ValidationInfo) -> DatabaseProfile:
        if is_production(info) and self.instances < 3:
            raise ValueError("a production stack needs 3 database instances, one per zone")
        return self


# A Kubernetes object name short enough that "<name>-pooler-rw" (its Pooler and Service) is one too.
CLUSTER_NAME_PATTERN = r"^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$"


class RestoreRequest(StrictModel):
    """A recovery cluster to create beside the running one (``samokoder-infra restore --apply``)."""

    # A Kubernetes object name; the restored cluster's Services take it as prefix.
    into: str = Field(pattern=CLUSTER_NAME_PATTERN)
    # Point-in-time recovery target; absent means the latest archived point.
    target_time: datetime | None = None

    @field_validator("into")
    @classmethod
    def _not_the_running_cluster(cls, value: str) -> str:
        if value == DATABASE_CLUSTER:
            raise ValueError(
                f"must not be {DATABASE_CLUSTER!r}: a restore never replaces the running cluster"
            )
        return value

    _offset = field_validator("target_time")(_with_offset)


class CutOver(StrictModel):
    """The restored cluster the app is served from instead of the running one
    (``samokoder-infra cut-over STACK --to NAME``; ``--back`` removes it)."""

    to: str = Field(pattern=CLUSTER_NAME_PATTERN, description="the restored cluster (samokoder:restore.into)")

    @field_validator("to")
    @classmethod
    def _not_the_running_cluster(cls, value: str) -> str:
        if value == DATABASE_CLUSTER:
            raise ValueError(
                f"must not be {DATABASE_CLUSTER!r}: the app is served from it without a cut-over; "
                "to return to it, cut back (samokoder-infra cut-over STACK --back)"
            )
        return value
