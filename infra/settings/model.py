"""The one typed model of a stack's settings.

A stack's settings are the merge of two sources: its profile
(``stacks/<stack>.yaml``: sizes, replicas, zones, retention, SLO targets,
thresholds, alert routes) and its identity and release
(``Pulumi.<stack>.yaml``, namespace ``samokoder:``). Every model forbids
unknown keys so that a typo fails instead of silently taking a default.

Rules that hold only for production stacks (three zones, a regional master,
HA replicas) are checked here, next to the fields they constrain; the
validation context says whether the stack is a production one.
"""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from infra.conventions import DATABASE_CLUSTER, REDACTED, Service
from infra.settings.strength import RULES


class StrictModel(BaseModel):
    """Base of every settings model: immutable, no unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _is_production(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get("production"))


def _is_offline(info: ValidationInfo) -> bool:
    """Synth: no decryption, no cloud; provided secrets may be absent."""
    return bool(info.context and info.context.get("offline"))


# --- value types -------------------------------------------------------------

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_YC_ID = re.compile(r"[a-z][a-z0-9]{19}")
_HOSTNAME = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


def _digest(value: str) -> str:
    if not _DIGEST.fullmatch(value):
        raise ValueError(
            "must be an image digest: 'sha256:' followed by 64 lowercase hex characters "
            f"(got {value!r}); tags are never deployed"
        )
    return value


def _yc_id(value: str) -> str:
    if not _YC_ID.fullmatch(value):
        raise ValueError(f"must be a Yandex Cloud id: 20 lowercase letters and digits (got {value!r})")
    return value


def _hostname(value: str) -> str:
    if not _HOSTNAME.fullmatch(value):
        raise ValueError(f"must be a lowercase DNS name such as 'staging.example.ru' (got {value!r})")
    return value


def _clock(value: str) -> str:
    if not _CLOCK.fullmatch(value):
        raise ValueError(f"must be a 24-hour time HH:MM (got {value!r})")
    return value


def _timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"must be an IANA time zone such as 'Europe/Moscow' (got {value!r})") from None
    return value


Digest = Annotated[str, AfterValidator(_digest)]
YcId = Annotated[str, AfterValidator(_yc_id)]
Hostname = Annotated[str, AfterValidator(_hostname)]
Clock = Annotated[str, AfterValidator(_clock)]
TimeZone = Annotated[str, AfterValidator(_timezone)]
Percent = Annotated[float, Field(gt=0, lt=100)]
Cidr = ipaddress.IPv4Network


class Zone(StrEnum):
    # ru-central1-c was closed by Yandex Cloud; d replaced it.
    A = "ru-central1-a"
    B = "ru-central1-b"
    D = "ru-central1-d"


# The bucket bounds of samokoder_http_request_duration_seconds (the app's
# metric contract). A latency SLI counts requests in a bucket, so its
# threshold has to be one of these bounds; there is no 2 s bucket.
LATENCY_BUCKETS_SECONDS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)


# --- identity and release (Pulumi.<stack>.yaml) -------------------------------


class Identity(StrictModel):
    """Where the stack lives; the only per-stack facts besides the release."""

    cloud_id: YcId
    folder_id: YcId
    domain: Hostname


class ReleaseImages(StrictModel):
    """Image digests of one release, one per service; all are required."""

    api: Digest
    worker: Digest
    frontend: Digest

    def digest(self, service: Service) -> str:
        return str(getattr(self, service))


class ImageBuild(StrictModel):
    """Build the images from the app's source checkout instead of using digests."""

    context: str = Field(min_length=1, description="path of the app's source checkout")
    # api and worker share one Dockerfile; the frontend has its own.
    backend_dockerfile: str = "Dockerfile"
    frontend_context: str = "frontend"
    frontend_dockerfile: str = "Dockerfile"
    platform: Literal["linux/amd64", "linux/arm64"] = "linux/amd64"


class Release(StrictModel):
    """What runs: a release id and either image digests or a build."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
    images: ReleaseImages | None = None
    build: ImageBuild | None = None
    # The Alembic head revision the release's images carry. When it changes,
    # the database is backed up and migrated before the new version rolls.
    migration_revision: str = Field(pattern=r"^[0-9a-f]{6,40}$")

    @model_validator(mode="after")
    def _one_image_source(self) -> Release:
        if (self.images is None) == (self.build is None):
            raise ValueError("set exactly one of 'images' (release digests) or 'build' (source checkout)")
        return self


# --- profile (stacks/<stack>.yaml) --------------------------------------------


class NetworkProfile(StrictModel):
    zones: list[Zone] = Field(min_length=1)
    cidr: Cidr
    # One subnet of this size per zone is carved from `cidr`, in zone order.
    subnet_prefix: int = Field(default=24, ge=16, le=28)

    @field_validator("zones")
    @classmethod
    def _zones(cls, zones: list[Zone], info: ValidationInfo) -> list[Zone]:
        if len(set(zones)) != len(zones):
            raise ValueError("zones must not repeat")
        if _is_production(info) and len(zones) < 3:
            raise ValueError(
                f"a production stack needs all 3 zones so that it survives a zone outage (got {len(zones)})"
            )
        return zones

    @model_validator(mode="after")
    def _room_for_subnets(self) -> NetworkProfile:
        if self.subnet_prefix < self.cidr.prefixlen:
            raise ValueError(f"subnet_prefix /{self.subnet_prefix} is larger than cidr {self.cidr}")
        room = 2 ** (self.subnet_prefix - self.cidr.prefixlen)
        if room < len(self.zones):
            raise ValueError(
                f"cidr {self.cidr} holds {room} /{self.subnet_prefix} subnets, need {len(self.zones)}"
            )
        return self


class MaintenanceWindow(StrictModel):
    day: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    start_time: Clock
    duration_hours: int = Field(ge=1, le=24)


class ClusterProfile(StrictModel):
    version: str = Field(pattern=r"^1\.(2[89]|3[0-9])$", description="Kubernetes minor, e.g. '1.30'")
    release_channel: Literal["RAPID", "REGULAR", "STABLE"]
    regional_master: bool
    public_api: bool
    # Who may reach the Kubernetes API when it is public (operators, CI runners).
    api_allowed_cidrs: list[Cidr] = Field(default_factory=list)
    # Opens NodePorts to the internet and lets the cluster create a public
    # load balancer: needed by the ingress controller.
    public_ingress: bool = True
    pod_cidr: Cidr
    service_cidr: Cidr
    node_cidr_mask_size: int = Field(default=24, ge=24, le=28)
    maintenance: MaintenanceWindow

    @field_validator("regional_master")
    @classmethod
    def _regional_in_production(cls, regional: bool, info: ValidationInfo) -> bool:
        if _is_production(info) and not regional:
            raise ValueError("a production stack needs a regional (three-zone) master")
        return regional

    @model_validator(mode="after")
    def _api_reachable(self) -> ClusterProfile:
        if self.public_api and not self.api_allowed_cidrs:
            raise ValueError("public_api needs at least one entry in api_allowed_cidrs")
        return self


class NodeGroupProfile(StrictModel):
    platform_id: Literal["standard-v2", "standard-v3"] = "standard-v3"
    cores: int = Field(ge=2, le=96)
    memory_gb: int = Field(ge=2, le=640)
    core_fraction: Literal[20, 50, 100] = 100
    disk_type: Literal["network-hdd", "network-ssd"] = "network-ssd"
    disk_gb: int = Field(ge=64, le=2048)
    preemptible: bool = False
    # Nodes get public addresses for egress: pulumi-yandex 0.13 has no NAT gateway.
    public_ip: bool = True
    min_per_zone: int = Field(ge=0, le=100)
    max_per_zone: int = Field(ge=1, le=100)

    @field_validator("preemptible")
    @classmethod
    def _not_preemptible_in_production(cls, preemptible: bool, info: ValidationInfo) -> bool:
        if _is_production(info) and preemptible:
            raise ValueError("a production stack must not run on preemptible nodes")
        return preemptible

    @model_validator(mode="after")
    def _bounds(self) -> NodeGroupProfile:
        if self.min_per_zone > self.max_per_zone:
            raise ValueError(f"min_per_zone {self.min_per_zone} exceeds max_per_zone {self.max_per_zone}")
        return self


class Replicas(StrictModel):
    api: int = Field(ge=1, le=50)
    worker: int = Field(ge=1, le=50)
    frontend: int = Field(ge=1, le=50)

    @model_validator(mode="after")
    def _ha_in_production(self, info: ValidationInfo) -> Replicas:
        if _is_production(info) and min(self.api, self.frontend) < 2:
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


# Yandex Managed Kubernetes storage classes.
StorageClass = Literal["yc-network-hdd", "yc-network-ssd"]

# The audit's DR target is an RPO under 6 h; continuous WAL archiving does far
# better, bounded by how long a partly filled WAL segment may wait.
MAX_ARCHIVE_TIMEOUT_SECONDS = 300
BACKUP_RETENTION_FLOOR_DAYS = 7
PRODUCTION_BACKUP_RETENTION_FLOOR_DAYS = 30


class DatabaseProfile(StrictModel):
    """The CloudNativePG cluster: size, placement and backups."""

    instances: int = Field(le=5)
    storage_gb: int = Field(ge=10, le=4096)
    storage_class: StorageClass
    # Requests equal limits: Guaranteed QoS, so the kernel never picks
    # Postgres first under memory pressure.
    cpu_cores: float = Field(gt=0, le=32)
    memory_gb: float = Field(gt=0, le=256)
    backup_retention_days: int = Field(le=365)
    # A daily base backup starts at this time (UTC, the operator's clock).
    backup_time_utc: Clock
    archive_timeout_seconds: int = Field(gt=0)
    pooler_instances: int = Field(ge=1, le=10)

    @field_validator("instances")
    @classmethod
    def _at_least_one(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"must be at least 1 (got {value}): a cluster with no instance serves nothing")
        return value

    @field_validator("backup_retention_days")
    @classmethod
    def _retention_floor(cls, value: int, info: ValidationInfo) -> int:
        floor = (
            PRODUCTION_BACKUP_RETENTION_FLOOR_DAYS if _is_production(info) else BACKUP_RETENTION_FLOOR_DAYS
        )
        if value < floor:
            stack = "a production stack" if _is_production(info) else "every stack"
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
        if _is_production(info) and self.instances < 3:
            raise ValueError("a production stack needs 3 database instances, one per zone")
        return self


class SloProfile(StrictModel):
    window_days: int = Field(ge=7, le=90)
    availability_percent: float = Field(ge=90)
    latency_threshold_seconds: float
    latency_percent: float = Field(ge=50)

    @field_validator("availability_percent", "latency_percent")
    @classmethod
    def _leaves_a_budget(cls, value: float) -> float:
        if value >= 100:
            raise ValueError(
                f"must be below 100 (got {value:g}): a {value:g} % objective leaves no error budget, "
                "so every error would page"
            )
        return value

    @field_validator("latency_threshold_seconds")
    @classmethod
    def _on_a_bucket(cls, value: float) -> float:
        if value not in LATENCY_BUCKETS_SECONDS:
            bounds = ", ".join(f"{b:g}" for b in LATENCY_BUCKETS_SECONDS)
            raise ValueError(
                f"must be a bucket bound of samokoder_http_request_duration_seconds ({bounds}), "
                f"otherwise the SLI cannot be counted (got {value:g})"
            )
        return value


class Threshold(StrictModel):
    """Alert levels in percent of a capacity or of requests; warning fires before critical."""

    warning: Percent
    critical: Percent

    @model_validator(mode="after")
    def _ordered(self) -> Threshold:
        if self.warning >= self.critical:
            raise ValueError(f"warning ({self.warning:g}) must be below critical ({self.critical:g})")
        return self


class QueueThreshold(Threshold):
    """Worker queue depth in percent of ``capacity`` queued jobs (the app exports a depth, not a share)."""

    capacity: int = Field(gt=0)


class DurationThreshold(StrictModel):
    """A quantile of a latency histogram, in seconds; warning fires before critical."""

    warning: float = Field(gt=0)
    critical: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> DurationThreshold:
        if self.warning >= self.critical:
            raise ValueError(f"warning ({self.warning:g} s) must be below critical ({self.critical:g} s)")
        return self


class BudgetThreshold(StrictModel):
    """Error budget remaining in percent; critical fires when less is left."""

    warning: Percent
    critical: Percent

    @model_validator(mode="after")
    def _ordered(self) -> BudgetThreshold:
        if self.critical >= self.warning:
            raise ValueError(
                f"critical ({self.critical:g}) must be below warning ({self.warning:g}): "
                "it is the budget left"
            )
        return self


class Thresholds(StrictModel):
    # Golden signals of the API: P95 latency and the share of 5xx answers.
    latency_p95_seconds: DurationThreshold
    error_rate: Threshold
    # Saturation, in percent of the container limit, the volume, the descriptor
    # limit, the connection pool and the queue capacity.
    cpu: Threshold
    memory: Threshold
    disk: Threshold
    file_descriptors: Threshold
    db_pool: Threshold
    queue_depth: QueueThreshold
    # Dependencies: the LLM providers and the database.
    llm_error_rate: Threshold
    llm_latency_p95_seconds: DurationThreshold
    # Tokens per second over the last hour against the day before: a cost spike.
    llm_token_spike_factor: float = Field(gt=1)
    db_error_rate: Threshold
    db_query_p95_seconds: DurationThreshold
    # How far a database replica's replay is behind the primary.
    db_replication_lag_seconds: DurationThreshold
    # Share of failed logins (brute force or a broken auth path).
    auth_failure_rate: Threshold
    error_budget: BudgetThreshold


Receiver = Literal["telegram", "email", "pagerduty"]


class QuietHours(StrictModel):
    start: Clock
    end: Clock

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError(f"start and end are both {self.start}: quiet hours would be empty")
        return self


class AlertRoutes(StrictModel):
    critical: list[Receiver] = Field(min_length=1)
    warning: list[Receiver] = Field(min_length=1)
    info: list[Receiver] = Field(min_length=1)

    @field_validator("critical")
    @classmethod
    def _page_in_production(cls, receivers: list[Receiver], info: ValidationInfo) -> list[Receiver]:
        if _is_production(info) and not {"telegram", "email", "pagerduty"} <= set(receivers):
            raise ValueError("a production stack routes critical alerts to telegram, email and pagerduty")
        return receivers


class TelegramReceiver(StrictModel):
    # Not a credential; the bot token is read from a mounted Secret.
    chat_id: int


class EmailReceiver(StrictModel):
    to: list[str] = Field(min_length=1)
    sender: str
    # host:port of the SMTP relay; its password is read from a mounted Secret.
    smarthost: str = Field(pattern=r"^[A-Za-z0-9.-]+:[0-9]{1,5}$")
    username: str


class PagerDutyReceiver(StrictModel):
    # The routing key is read from a mounted Secret; nothing to set here yet.
    pass


class Receivers(StrictModel):
    telegram: TelegramReceiver | None = None
    email: EmailReceiver | None = None
    pagerduty: PagerDutyReceiver | None = None


class AlertingProfile(StrictModel):
    timezone: TimeZone
    # Info alerts are muted in these hours (stack time zone).
    quiet_hours: QuietHours
    routes: AlertRoutes
    receivers: Receivers

    @model_validator(mode="after")
    def _routes_have_receivers(self) -> AlertingProfile:
        for severity in ("critical", "warning", "info"):
            for receiver in getattr(self.routes, severity):
                if getattr(self.receivers, receiver) is None:
                    raise ValueError(
                        f"routes.{severity} sends to {receiver!r}, but receivers.{receiver} is not configured"
                    )
        return self


class MonitoringProfile(StrictModel):
    retention_days: int = Field(ge=1, le=365)
    storage_class: StorageClass
    storage_gb: int = Field(ge=10)
    grafana_storage_gb: int = Field(ge=1)


SecretGroup = Literal["app", "monitoring"]
SECRET_GROUPS: tuple[SecretGroup, ...] = ("app", "monitoring")
# The audit: rotate every 90 days at the latest.
MAX_ROTATION_DAYS = 90


class SecretsProfile(StrictModel):
    rotation_days: int = Field(ge=1)

    @field_validator("rotation_days")
    @classmethod
    def _audit_period(cls, value: int) -> int:
        if value > MAX_ROTATION_DAYS:
            raise ValueError(
                f"must be at most {MAX_ROTATION_DAYS} days, the audit's rotation period (got {value})"
            )
        return value


class ProvidedSecrets(StrictModel):
    """Secrets only operators have (``pulumi config set --secret``); checked, never printed."""

    openrouter_api_key: SecretStr | None = None
    telegram_bot_token: SecretStr | None = None
    smtp_password: SecretStr | None = None
    pagerduty_routing_key: SecretStr | None = None
    watchdog_url: SecretStr | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _strong(cls, value: object, info: ValidationInfo) -> object:
        if value is None:
            return None
        name = info.field_name
        if not isinstance(value, str):
            raise ValueError(
                f"must be a string: pulumi config set --secret --path samokoder:secrets.{name} VALUE"
            )
        if value == REDACTED:
            # Encrypted in the stack file: synth cannot read it; `pulumi up` checks it decrypted.
            return value
        assert name is not None
        problem = RULES[name].problem(value)
        if problem:
            raise ValueError(
                f"the value {problem}; set a real one with "
                f"`pulumi config set --secret --path samokoder:secrets.{name}`"
            )
        return value

    def value(self, name: str) -> str | None:
        secret = getattr(self, name)
        return None if secret is None else str(secret.get_secret_value())


class LockboxSettings(StrictModel):
    """How the Lockbox provider authenticates (per stack: an operator, CI or a VM)."""

    auth: Literal["service_account_key_file", "iam_token", "metadata"] = "iam_token"
    key_file: str | None = None
    endpoint: str = "api.cloud.yandex.net:443"

    @model_validator(mode="after")
    def _key_file_with_its_method(self) -> LockboxSettings:
        if (self.auth == "service_account_key_file") != (self.key_file is not None):
            raise ValueError("key_file is required with auth 'service_account_key_file' and only with it")
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


# --- the merged settings ------------------------------------------------------


class StackSettings(StrictModel):
    """Everything the program needs to know about one stack."""

    stack: str = Field(pattern=r"^[a-z][a-z0-9-]{0,30}$")
    # Stateful resources (the cluster that holds the database, the KMS key of
    # its Secrets, later buckets) get `protect`: deleting them needs a
    # deliberate unprotect first.
    protect_stateful: bool = False
    identity: Identity
    release: Release
    network: NetworkProfile
    cluster: ClusterProfile
    node_group: NodeGroupProfile
    replicas: Replicas
    workloads: WorkloadsProfile
    database: DatabaseProfile
    slo: SloProfile
    thresholds: Thresholds
    alerting: AlertingProfile
    monitoring: MonitoringProfile
    secrets_policy: SecretsProfile
    # Set by `samokoder-infra restore --apply` in the stack file, cleared after.
    restore: RestoreRequest | None = None
    # From the stack file: provided secrets, Lockbox access, rotation requests.
    secrets: ProvidedSecrets = ProvidedSecrets()
    lockbox: LockboxSettings = LockboxSettings()
    rotation: dict[SecretGroup, datetime] = Field(default_factory=dict)

    @field_validator("rotation")
    @classmethod
    def _rotation_stamps_with_offset(cls, stamps: dict[SecretGroup, datetime]) -> dict[SecretGroup, datetime]:
        naive = sorted(group for group, stamp in stamps.items() if stamp.utcoffset() is None)
        if naive:
            raise ValueError(
                f"{', '.join(naive)}: a rotation stamp needs its UTC offset (rotate-secrets writes one)"
            )
        return stamps

    @field_validator("protect_stateful")
    @classmethod
    def _protected_in_production(cls, protect: bool, info: ValidationInfo) -> bool:
        if _is_production(info) and not protect:
            raise ValueError("a production stack protects its stateful resources")
        return protect

    @model_validator(mode="after")
    def _address_plan(self) -> StackSettings:
        ranges = {
            "network.cidr": self.network.cidr,
            "cluster.pod_cidr": self.cluster.pod_cidr,
            "cluster.service_cidr": self.cluster.service_cidr,
        }
        names = list(ranges)
        for i, first in enumerate(names):
            for second in names[i + 1 :]:
                if ranges[first].overlaps(ranges[second]):
                    raise ValueError(f"{first} {ranges[first]} overlaps {second} {ranges[second]}")
        return self

    @model_validator(mode="after")
    def _slo_window_retained(self) -> StackSettings:
        if self.monitoring.retention_days < self.slo.window_days:
            raise ValueError(
                f"monitoring.retention_days ({self.monitoring.retention_days}) is shorter than "
                f"slo.window_days ({self.slo.window_days}): the SLO window could not be computed"
            )
        return self

    def required_secrets(self) -> tuple[str, ...]:
        """The provided secrets this stack needs: the LLM key, the watchdog, each configured receiver's."""
        receivers = self.alerting.receivers
        needed = ["openrouter_api_key", "watchdog_url"]
        needed += ["telegram_bot_token"] if receivers.telegram else []
        needed += ["smtp_password"] if receivers.email else []
        needed += ["pagerduty_routing_key"] if receivers.pagerduty else []
        return tuple(needed)

    @model_validator(mode="after")
    def _provided_secrets_set(self, info: ValidationInfo) -> StackSettings:
        if _is_offline(info):
            return self
        missing = [name for name in self.required_secrets() if getattr(self.secrets, name) is None]
        if missing:
            commands = "; ".join(
                f"pulumi config set --secret --path samokoder:secrets.{name}" for name in missing
            )
            raise ValueError(f"secrets not set: {', '.join(missing)} ({commands})")
        return self

    @model_validator(mode="after")
    def _api_can_scale(self) -> StackSettings:
        if self.workloads.api_max_replicas < self.replicas.api:
            raise ValueError(
                f"workloads.api_max_replicas ({self.workloads.api_max_replicas}) is below "
                f"replicas.api ({self.replicas.api})"
            )
        return self

    @model_validator(mode="after")
    def _regional_master_zones(self) -> StackSettings:
        if self.cluster.regional_master and len(self.network.zones) != 3:
            raise ValueError(
                "cluster.regional_master needs exactly 3 zones in network.zones "
                f"(got {len(self.network.zones)})"
            )
        return self
