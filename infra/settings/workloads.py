"""The app's workloads: replicas, container resources, Redis, the ACME contact."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    ValidationInfo,
    model_validator,
)

from infra.settings.base import StrictModel, is_production


class Replicas(StrictModel):
    api: int = Field(ge=1, le=50)
    worker: int = Field(ge=1, le=50)
    frontend: int = Field(ge=1, le=50)

    @model_validator(mode="after")
    def _ha_in_production(self, info: ValidationInfo) -> Replicas:
        if is_production(info) and min(self.api, self.frontend) < 2:
            raise ValueError("a production stack needs at least 2 replicas of api and frontend")
        return self


class ContainerResources(StrictModel):
    """Requests and limits of one container; requests never above limits."""

    cpu_request_m: int = Field(ge=10)
    cpu_limit_m: int = Field(ge=10)
    memory_request_mib: int = Field(ge=16)
    memory_limit_mib: int = Field(ge=16)

    @model_validator(mode="after")
    def _requests_within_limits(self) -> ContainerResources:
        if self.cpu_request_m > self.cpu_limit_m:
            raise ValueError(
                f"cpu_request_m ({self.cpu_request_m}) is above cpu_limit_m ({self.cpu_limit_m})"
            )
        if self.memory_request_mib > self.memory_limit_mib:
            raise ValueError(
                f"memory_request_mib ({self.memory_request_mib}) is above "
                f"memory_limit_mib ({self.memory_limit_mib})"
            )
        return self


class RedisProfile(StrictModel):
    """Managed Redis 7 (the worker's queue)."""

    resource_preset_id: str = Field(pattern=r"^[a-z0-9]+-[a-z0-9]+-[a-z0-9]+$")
    disk_size_gb: int = Field(ge=4, le=512)
    disk_type_id: Literal["network-ssd", "local-ssd"] = "network-ssd"


class WorkloadsProfile(StrictModel):
    api: ContainerResources
    worker: ContainerResources
    frontend: ContainerResources
    # The API scales out from replicas.api up to this.
    api_max_replicas: int = Field(ge=1, le=100)
    # The worker's arq settings class, which `arq --check` probes.
    worker_settings: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.]*$")
    redis: RedisProfile
    # Let's Encrypt writes here about expiring certificates.
    acme_email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
