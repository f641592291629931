"""Objectives, alert thresholds, alert routing and the monitoring stack's size."""

from __future__ import annotations

from typing import Final, Literal, get_args

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from infra.app_contract import METRICS
from infra.ingress_contract import REQUEST_DURATION, TIME_BUCKETS_SECONDS
from infra.settings.base import Clock, Percent, StorageClass, StrictModel, TimeZone, is_production


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
        # The latency SLI is measured at the edge, from ingress-nginx's histogram.
        if value not in TIME_BUCKETS_SECONDS:
            bounds = ", ".join(f"{b:g}" for b in TIME_BUCKETS_SECONDS)
            raise ValueError(
                f"must be a bucket bound of {REQUEST_DURATION} ({bounds}), "
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
    # Share of the API's requests its rate limiter answers 429 (one warning: clients, not us).
    rate_limit_hits_percent: Percent
    # Redis memory against its maxmemory: it runs noeviction, so a full Redis refuses writes.
    redis_memory: Threshold


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
        if is_production(info) and not {"telegram", "email", "pagerduty"} <= set(receivers):
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


InstrumentationGroup = Literal["llm", "database", "auth", "projects", "connections"]
INSTRUMENTATION_GROUPS: Final[tuple[InstrumentationGroup, ...]] = get_args(InstrumentationGroup)
# The app's metrics each group of rules and panels reads (infra/app_contract.py, METRICS);
# docs/app-contract.md#instrumentation-gaps says what the app has to call to set them.
INSTRUMENTATION_METRICS: Final[dict[InstrumentationGroup, tuple[str, ...]]] = {
    "llm": (
        "samokoder_llm_requests_total",
        "samokoder_llm_request_errors_total",
        "samokoder_llm_request_duration_seconds",
        "samokoder_llm_tokens_consumed_total",
    ),
    "database": (
        "samokoder_db_query_duration_seconds",
        "samokoder_db_errors_total",
        "samokoder_db_connection_pool_size",
    ),
    "auth": ("samokoder_auth_attempts_total",),
    "projects": ("samokoder_projects_created_total",),
    "connections": ("samokoder_network_connections_active",),
}


def never_set(group: InstrumentationGroup) -> tuple[str, ...]:
    """The group's metrics the app contract marks as defined but never set."""
    emitted = {metric.name for metric in METRICS if metric.emitted}
    return tuple(name for name in INSTRUMENTATION_METRICS[group] if name not in emitted)


class Instrumentation(StrictModel):
    """Rules and panels on app metrics the app does not set yet: each group stays off until it does.

    Turning a group on is refused while the app contract marks any of its
    metrics as never set: its alerts could never fire (or, like "no project
    created", would fire forever) and its panels would stay empty. Make the
    app set them, mark them emitted in ``infra/app_contract.py``, then turn
    the group on.
    """

    llm: bool = False
    database: bool = False
    auth: bool = False
    projects: bool = False
    connections: bool = False

    @field_validator(*INSTRUMENTATION_GROUPS)
    @classmethod
    def _emitted(cls, on: bool, info: ValidationInfo) -> bool:
        group: InstrumentationGroup = info.field_name  # type: ignore[assignment]
        missing = never_set(group) if on else ()
        if missing:
            raise ValueError(
                f"the app never sets {', '.join(missing)} (infra/app_contract.py marks "
                f"{'it' if len(missing) == 1 else 'them'} not emitted): the group's alerts could not "
                "work. Make the app set them (docs/app-contract.md, Instrumentation gaps) and mark "
                "them emitted in the contract first"
            )
        return on

    @property
    def enabled(self) -> frozenset[InstrumentationGroup]:
        return frozenset(group for group in INSTRUMENTATION_GROUPS if getattr(self, group))


class MonitoringProfile(StrictModel):
    retention_days: int = Field(ge=1, le=365)
    storage_class: StorageClass
    storage_gb: int = Field(ge=10)
    grafana_storage_gb: int = Field(ge=1)
    # Off for every group by default: see Instrumentation.
    instrumentation: Instrumentation = Instrumentation()
