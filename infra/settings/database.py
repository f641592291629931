"""The CloudNativePG cluster, its backups, and a restore request."""

from __future__ import annotations

from datetime import datetime

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from infra.conventions import DATABASE_CLUSTER
from infra.settings.base import Clock, StorageClass, StrictModel, is_production

# The audit's DR target is an RPO under 6 h; continuous WAL archiving does far
# better, bounded by how long a partly filled WAL segment may wait.
MAX_ARCHIVE_TIMEOUT_SECONDS = 300


BACKUP_RETENTION_FLOOR_DAYS = 7


PRODUCTION_BACKUP_RETENTION_FLOOR_DAYS = 30


class DatabaseProfile(StrictModel):
    """The CloudNativePG cluster: size, placement and backups."""

    instances: int = Field(le=5, description="PostgreSQL instances, spread over the zones")
    storage_gb: int = Field(ge=10, le=4096, description="each instance's volume, GiB")
    storage_class: StorageClass = Field(description="the volumes' storage class")
    # Requests equal limits: Guaranteed QoS, so the kernel never picks
    # Postgres first under memory pressure.
    cpu_cores: float = Field(gt=0, le=32)
    memory_gb: float = Field(gt=0, le=256, description="memory of each instance, GiB (requests = limits)")
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

    @field_validator("instances")
    @classmethod
    def _at_least_one(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"must be at least 1 (got {value}): a cluster with no instance serves nothing")
        return value

    @field_validator("backup_retention_days")
    @classmethod
    def _retention_floor(cls, value: int, info: ValidationInfo) -> int:
        floor = PRODUCTION_BACKUP_RETENTION_FLOOR_DAYS if is_production(info) else BACKUP_RETENTION_FLOOR_DAYS
        if value < floor:
            stack = "a production stack" if is_production(info) else "every stack"
            raise ValueError(f"must be at least {floor} days for {stack} (got {value})")
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
    def _ha_in_production(self, info: ValidationInfo) -> DatabaseProfile:
        if is_production(info) and self.instances < 3:
            raise ValueError("a production stack needs 3 database instances, one per zone")
        return self


class RestoreRequest(StrictModel):
    """A recovery cluster to create beside the running one (``samokoder-infra restore --apply``)."""

    # A Kubernetes object name; the restored cluster's Services take it as prefix.
    into: str = Field(pattern=r"^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$")
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

    @field_validator("target_time")
    @classmethod
    def _with_offset(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.utcoffset() is None:
            raise ValueError(
                f"must carry a UTC offset, e.g. 2026-11-26T10:00:00+03:00 (got {value.isoformat()})"
            )
        return value
