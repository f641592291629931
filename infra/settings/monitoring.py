"""Objectives, alert thresholds, alert routing and the monitoring stack's size."""

from __future__ import annotations

import re
from typing import Final, Literal, get_args

from pydantic import Field, ValidationInfo, field_validator, model_validator

from infra.app_contract import METRICS
from infra.ingress_contract import REQUEST_DURATION, TIME_BUCKETS_SECONDS
from infra.settings.base import Clock, Percent, StorageClass, StrictModel, TimeZone, production_rules


class SloProfile(StrictModel):
    """The API's objectives, measured at the ingress and computed by Prometheus."""

    window_days: int = Field(ge=7, le=90, description="the SLO period, days")
    availability_percent: float = Field(ge=90, description="objective: share of requests not answered 5xx, %")
    latency_threshold_seconds: float = Field(
        description="a request this fast is good: a bucket bound of "
        f"{REQUEST_DURATION} ({', '.join(f'{b:g}' for b in TIME_BUCKETS_SECONDS)})"
    )
    latency_percent: float = Field(ge=50, description="objective: share of requests under the threshold, %")

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

    warning: Percent = Field(description="the warning alert's level, %")
    critical: Percent = Field(description="the critical alert's level, %, above warning")

    @model_validator(mode="after")
    def _ordered(self) -> Threshold:
        if self.warning >= self.critical:
            raise ValueError(f"warning ({self.warning:g}) must be below critical ({self.critical:g})")
        return self


class QueueThreshold(Threshold):
    """Worker queue depth in percent of ``capacity`` queued jobs (the app exports a depth, not a share)."""

    capacity: int = Field(gt=0, description="queued jobs that make 100 %")


class DurationThreshold(StrictModel):
    """A quantile of a latency histogram, in seconds; warning fires before critical."""

    warning: float = Field(gt=0, description="the warning alert's level, seconds")
    critical: float = Field(gt=0, description="the critical alert's level, seconds, above warning")

    @model_validator(mode="after")
    def _ordered(self) -> DurationThreshold:
        if self.warning >= self.critical:
            raise ValueError(f"warning ({self.warning:g} s) must be below critical ({self.critical:g} s)")
        return self


class BudgetThreshold(StrictModel):
    """Error budget remaining in percent; critical fires when less is left."""

    warning: Percent = Field(description="warn when less than this share of the budget is left, %")
    critical: Percent = Field(description="page when less than this is left, %, below warning")

    @model_validator(mode="after")
    def _ordered(self) -> BudgetThreshold:
        if self.critical >= self.warning:
            raise ValueError(
                f"critical ({self.critical:g}) must be below warning ({self.warning:g}): "
                "it is the budget left"
            )
        return self


class Thresholds(StrictModel):
    """The alerts' levels; each key names the alert it sets."""

    # Golden signals of the API.
    latency_p95_seconds: DurationThreshold = Field(description="ApiLatencyHigh: the API's P95 at the ingress")
    error_rate: Threshold = Field(description="ApiErrorRateHigh: share of the API's requests answered 5xx")
    # Saturation, in percent of a capacity.
    cpu: Threshold = Field(description="ContainerCpuHigh: a container's CPU use against its limit")
    memory: Threshold = Field(description="ContainerMemoryHigh: a container's working set against its limit")
    disk: Threshold = Field(description="VolumeFillingUp: a volume's used share")
    file_descriptors: Threshold = Field(
        description="FileDescriptorsExhausting: the API process's open descriptors against its limit"
    )
    db_pool: Threshold = Field(
        description="DatabasePoolSaturated: the app's connection pool in use (instrumentation.database)"
    )
    queue_depth: QueueThreshold = Field(description="WorkerQueueSaturated: the worker queue against capacity")
    # Dependencies: the LLM providers and the database.
    llm_error_rate: Threshold = Field(
        description="LlmErrorRateHigh: share of failed LLM calls (instrumentation.llm)"
    )
    llm_latency_p95_seconds: DurationThreshold = Field(
        description="LlmLatencyHigh: P95 of LLM calls (instrumentation.llm)"
    )
    llm_token_spike_factor: float = Field(
        gt=1,
        description="LlmTokenSpike: tokens per second over the last hour against the day before, a cost "
        "spike (instrumentation.llm)",
    )
    db_error_rate: Threshold = Field(
        description="DatabaseErrorRateHigh: share of failed queries (instrumentation.database)"
    )
    db_query_p95_seconds: DurationThreshold = Field(
        description="DatabaseQueriesSlow: P95 of the app's queries (instrumentation.database)"
    )
    db_replication_lag_seconds: DurationThreshold = Field(
        description="DatabaseReplicationLag: how far a replica's replay is behind the primary"
    )
    auth_failure_rate: Threshold = Field(
        description="AuthFailureSpike: share of failed logins, brute force or a broken auth path "
        "(instrumentation.auth)"
    )
    error_budget: BudgetThreshold = Field(description="Api*BudgetLow: the SLOs' error budget left")
    # One warning only: a client being limited is the client's problem, not ours.
    rate_limit_hits_percent: Percent = Field(
        description="HighRateLimitHits: share of the API's requests its rate limiter answers 429"
    )
    # Redis runs noeviction, so a full Redis refuses writes.
    redis_memory: Threshold = Field(description="RedisMemoryHigh: Redis memory against its maxmemory")


Receiver = Literal["telegram", "email", "pagerduty"]
# An address Alertmanager's email notifier can send to: local@domain, no spaces, no list.
_EMAIL = re.compile(r"[^@\s,<>]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


class QuietHours(StrictModel):
    """Hours in which info alerts are muted, in the stack's time zone."""

    start: Clock = Field(description="when the quiet hours begin")
    end: Clock = Field(description="when they end (may be past midnight)")

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError(f"start and end are both {self.start}: quiet hours would be empty")
        return self


class AlertRoutes(StrictModel):
    """Which receivers each severity goes to; each must be configured under receivers."""

    critical: list[Receiver] = Field(min_length=1, description="receivers of critical alerts (pages)")
    warning: list[Receiver] = Field(min_length=1, description="receivers of warnings")
    info: list[Receiver] = Field(min_length=1, description="receivers of info alerts, muted in quiet hours")

    _in_production = production_rules(
        {
            "critical": (
                lambda receivers: not {"telegram", "email", "pagerduty"} <= set(receivers),
                "a production stack routes critical alerts to telegram, email and pagerduty",
            )
        }
    )


class TelegramReceiver(StrictModel):
    """A Telegram chat; its bot token is the provided secret telegram_bot_token."""

    # Not a credential; the bot token is read from a mounted Secret.
    chat_id: int = Field(description="the chat alerts are posted to")


class EmailReceiver(StrictModel):
    """E-mail through an SMTP relay; its password is the provided secret smtp_password."""

    to: list[str] = Field(min_length=1, description="recipients' addresses")
    sender: str = Field(description="the From address")
    # host:port of the SMTP relay; its password is read from a mounted Secret.
    smarthost: str = Field(pattern=r"^[A-Za-z0-9.-]+:[0-9]{1,5}$")
    username: str = Field(description="the SMTP login")


class PagerDutyReceiver(StrictModel):
    """PagerDuty Events v2: set it as `{}`; its routing key is the provided secret pagerduty_routing_key."""


class Receivers(StrictModel):
    """The receivers alerts may go to; one left out is not configured."""

    telegram: TelegramReceiver | None = None
    email: EmailReceiver | None = None
    pagerduty: PagerDutyReceiver | None = None


class AlertingProfile(StrictModel):
    """Where alerts go, and when info alerts stay quiet."""

    timezone: TimeZone = Field(description="the time zone of the quiet hours")
    # Info alerts are muted in these hours (stack time zone).
    quiet_hours: QuietHours
    routes: AlertRoutes
    receivers: Receivers

    @model_validator(mode="after")
    def _alertmanager_accepts_it(self) -> AlertingProfile:
        """What Alertmanager would refuse at load (or never deliver), refused here instead."""
        telegram, email = self.receivers.telegram, self.receivers.email
        problems = []
        for severity in ("critical", "warning", "info"):
            route = getattr(self.routes, severity)
            problems += [
                f"routes.{severity} sends to {receiver!r}, but receivers.{receiver} is not configured"
                for receiver in route
                if getattr(self.receivers, receiver) is None
            ]
            if len(set(route)) != len(route):
                problems.append(f"routes.{severity}: a receiver is listed twice")
        if telegram is not None and telegram.chat_id == 0:
            problems.append("receivers.telegram.chat_id: 0 is not a chat (Alertmanager refuses it)")
        if email is not None:
            bad = [i for i, to in enumerate(email.to) if not _EMAIL.fullmatch(to)]
            if bad:
                problems.append(f"receivers.email.to[{bad[0]}]: not an email address")
            if len(set(email.to)) != len(email.to):
                problems.append("receivers.email.to: an address is listed twice")
            if not _EMAIL.fullmatch(email.sender):
                problems.append("receivers.email.sender: not an email address")
        if problems:
            raise ValueError("; ".join(problems))
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


def _group_reads(group: InstrumentationGroup) -> str:
    return "the rules and panels on " + ", ".join(INSTRUMENTATION_METRICS[group])


class Instrumentation(StrictModel):
    """Rules and panels on app metrics the app does not set yet: each group stays off until it does.

    Turning a group on is refused while the app contract marks any of its
    metrics as never set: its alerts could never fire (or, like "no project
    created", would fire forever) and its panels would stay empty. Make the
    app set them, mark them emitted in ``infra/app_contract.py``, then turn
    the group on.
    """

    llm: bool = Field(default=False, description=_group_reads("llm"))
    database: bool = Field(default=False, description=_group_reads("database"))
    auth: bool = Field(default=False, description=_group_reads("auth"))
    projects: bool = Field(default=False, description=_group_reads("projects"))
    connections: bool = Field(default=False, description=_group_reads("connections"))

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
    """kube-prometheus-stack's size, and which rules on the app's own metrics are on."""

    retention_days: int = Field(
        ge=1, le=365, description="Prometheus keeps this many days, at least slo.window_days"
    )
    storage_class: StorageClass = Field(description="storage class of Prometheus's and Grafana's volumes")
    storage_gb: int = Field(ge=10, description="Prometheus's volume, GiB")
    grafana_storage_gb: int = Field(ge=1, description="Grafana's volume, GiB")
    # Off for every group by default: see Instrumentation.
    instrumentation: Instrumentation = Instrumentation()
