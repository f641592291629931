"""Loki: how long the platform's logs are kept, and the size of the one pod that keeps them."""

from __future__ import annotations

from typing import Final

from pydantic import Field, ValidationInfo, field_validator

from infra.settings.base import StorageClass, StrictModel, is_production
from infra.settings.workloads import ContainerResources

# Loki's compactor applies retention only with a 24h index period, and a retention is a multiple of
# that period (docs/sources/operations/storage/retention.md:91-93, 210-212 at grafana/loki v3.7.6):
# a whole number of days.
RETENTION_FLOOR_DAYS: Final = 1
# An incident found on Monday is still readable after a week-end and a slow week in production.
PRODUCTION_RETENTION_FLOOR_DAYS: Final = 14
RETENTION_CEILING_DAYS: Final = 365


class LogsProfile(StrictModel):
    """Loki's retention, its volume (the write-ahead log and the index not yet shipped) and its container."""

    retention_days: int = Field(
        description=f"logs older than this are deleted by Loki's compactor, days: at least "
        f"{RETENTION_FLOOR_DAYS} ({PRODUCTION_RETENTION_FLOOR_DAYS} in production), at most "
        f"{RETENTION_CEILING_DAYS}; the bucket expires objects a little later as a backstop"
    )
    storage_class: StorageClass = Field(description="storage class of Loki's volume")
    storage_gb: int = Field(ge=5, le=512, description="Loki's volume, GiB")
    resources: ContainerResources = Field(description="Loki's container")

    @field_validator("retention_days")
    @classmethod
    def _retention_in_range(cls, value: int, info: ValidationInfo) -> int:
        floor = PRODUCTION_RETENTION_FLOOR_DAYS if is_production(info) else RETENTION_FLOOR_DAYS
        stack = "a production stack" if is_production(info) else "every stack"
        if value < floor:
            raise ValueError(
                f"must be at least {floor} day{'s' * (floor != 1)} in {stack} (got {value}): "
                "the logs an incident needs would be gone before anyone read them"
            )
        if value > RETENTION_CEILING_DAYS:
            raise ValueError(
                f"must be at most {RETENTION_CEILING_DAYS} days (got {value}): "
                "keep archives elsewhere, not in the log store"
            )
        return value
