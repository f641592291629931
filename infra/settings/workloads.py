"""The app's workloads: replicas, container resources, its environment, Redis, the ACME contact."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from infra.settings.base import StorageClass, StrictModel, is_production, production_rules


class Replicas(StrictModel):
    """How many pods of each process run."""

    api: int = Field(ge=1, le=50, description="api pods (the autoscaler's floor)")
    worker: int = Field(ge=1, le=50, description="worker pods")
    frontend: int = Field(ge=1, le=50, description="frontend pods")

    @model_validator(mode="after")
    def _ha_in_production(self, info: ValidationInfo) -> Replicas:
        if is_production(info) and min(self.api, self.frontend) < 2:
            raise ValueError("a production stack needs at least 2 replicas of api and frontend")
        return self


class ContainerResources(StrictModel):
    """Requests and limits of one container; requests never above limits."""

    cpu_request_m: int = Field(ge=10, description="CPU request, millicores")
    cpu_limit_m: int = Field(ge=10, description="CPU limit, millicores")
    memory_request_mib: int = Field(ge=16, description="memory request, MiB")
    memory_limit_mib: int = Field(ge=16, description="memory limit, MiB")

    @model_validator(mode="after")
    def _requests_within_limits(self) -> ContainerResources:
        for request, limit in (("cpu_request_m", "cpu_limit_m"), ("memory_request_mib", "memory_limit_mib")):
            if getattr(self, request) > getattr(self, limit):
                raise ValueError(
                    f"{request} ({getattr(self, request)}) is above {limit} ({getattr(self, limit)})"
                )
        return self


class RedisProfile(StrictModel):
    """The worker's arq queue and the API's rate-limit storage: Redis 7 in the app's namespace.

    One pod, its queue on a volume, reachable by the app's pods only. The app
    builds its Redis connections from REDIS_HOST and REDIS_PORT alone
    (worker/main.py:111-114, api/middleware/rate_limiter.py:35-40): no password
    and no TLS; see docs/app-contract.md.
    """

    memory_mib: int = Field(ge=64, le=16384, description="the pod's memory, MiB")
    storage_gb: int = Field(ge=1, le=512, description="its volume, GiB")
    storage_class: StorageClass = Field(description="its volume's storage class")


# Names RFC 2606 and RFC 6761 reserve: mail to them is never delivered, and ACME
# servers refuse them as account contacts.
RESERVED_TLDS = frozenset({"example", "test", "invalid", "localhost", "local"})
RESERVED_DOMAINS = frozenset({"example.com", "example.net", "example.org"})

# What the app's ENVIRONMENT may say; only 'production' changes its behaviour
# (infra/app_contract.py: ENVIRONMENT).
AppEnvironment = Literal["production", "staging", "development"]


class WorkloadsProfile(StrictModel):
    """The app's processes: their resources, environment, Redis and the certificate contact."""

    api: ContainerResources
    worker: ContainerResources
    frontend: ContainerResources
    # The API scales out from replicas.api up to this.
    api_max_replicas: int = Field(ge=1, le=100)
    # The app's ENVIRONMENT.
    environment: AppEnvironment
    redis: RedisProfile
    # Let's Encrypt writes here about expiring certificates.
    acme_email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")

    @field_validator("acme_email")
    @classmethod
    def _deliverable(cls, value: str) -> str:
        domain = value.rsplit("@", 1)[1].lower()
        if domain.rsplit(".", 1)[1] in RESERVED_TLDS or domain in RESERVED_DOMAINS:
            raise ValueError(
                f"{value!r} is at a reserved domain (RFC 2606/6761), which Let's Encrypt refuses as a "
                "contact: no certificate would be issued"
            )
        return value

    _in_production = production_rules(
        {
            "environment": (
                lambda value: value != "production",
                "a production stack runs the app with ENVIRONMENT 'production' (got {value!r}): anything "
                "else skips its secret checks, secure cookies and HSTS",
            )
        }
    )
