"""The one model of a stack's settings: the merge of its profile and its stack file.

A stack's settings are the merge of two sources: its profile
(``stacks/<stack>.yaml``: sizes, replicas, zones, retention, SLO targets,
thresholds, alert routes) and its identity and release
(``Pulumi.<stack>.yaml``, namespace ``samokoder:``). Every model forbids
unknown keys so that a typo fails instead of silently taking a default.

Rules that hold only for production stacks (three zones, a regional master,
HA replicas) are checked next to the fields they constrain, in the area
modules; the validation context says whether the stack is a production one.
Rules that span areas are checked here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from infra.conventions import MAX_STACK_NAME
from infra.settings.base import StrictModel, is_offline, is_production
from infra.settings.canary import CanaryProfile
from infra.settings.cluster import ClusterProfile, NetworkProfile, NodeGroupProfile
from infra.settings.database import DatabaseProfile, RestoreRequest
from infra.settings.monitoring import AlertingProfile, MonitoringProfile, SloProfile, Thresholds
from infra.settings.release import Identity, ImageScan, Release
from infra.settings.secrets import (
    PROVIDED_SECRETS,
    LockboxSettings,
    ProvidedSecrets,
    SecretGroup,
    SecretsProfile,
)
from infra.settings.workloads import Replicas, WorkloadsProfile

# An address Alertmanager's email notifier can send to: local@domain, no spaces, no list.
_EMAIL = re.compile(r"[^@\s,<>]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
# How far ahead of this machine's clock a rotation stamp may be (another machine's clock).
ROTATION_CLOCK_SKEW = timedelta(minutes=5)


class StackSettings(StrictModel):
    """Everything the program needs to know about one stack."""

    # Short enough that "<object>-<stack>" stays a valid label value (infra/conventions.py).
    stack: str = Field(pattern=rf"^[a-z][a-z0-9-]{{0,{MAX_STACK_NAME - 1}}}$")
    # Deleting a protected resource needs a deliberate unprotect first.
    protect_stateful: bool = Field(
        default=False,
        description="Pulumi's `protect` on the stateful resources (the cluster, the database and its "
        "bucket, the KMS keys, the Lockbox secrets, the site's address and zone)",
    )
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
    canary: CanaryProfile
    image_scan: ImageScan = ImageScan()
    # Set by `samokoder-infra restore --apply` in the stack file, cleared after.
    restore: RestoreRequest | None = None
    # From the stack file: provided secrets, Lockbox access, rotation requests.
    secrets: ProvidedSecrets = ProvidedSecrets()
    lockbox: LockboxSettings = LockboxSettings()
    rotation: dict[SecretGroup, datetime] = Field(
        default_factory=dict,
        description="set by `samokoder-infra rotate-secrets`: a group stamped here is regenerated at the "
        "next `pulumi up`",
    )

    @field_validator("rotation")
    @classmethod
    def _rotation_stamps_with_offset(cls, stamps: dict[SecretGroup, datetime]) -> dict[SecretGroup, datetime]:
        naive = sorted(group for group, stamp in stamps.items() if stamp.utcoffset() is None)
        if naive:
            raise ValueError(
                f"{', '.join(naive)}: a rotation stamp needs its UTC offset (rotate-secrets writes one)"
            )
        # A stamp ahead of the clock would silence the rotation check until then.
        ahead = sorted(
            group for group, stamp in stamps.items() if stamp - datetime.now(UTC) > ROTATION_CLOCK_SKEW
        )
        if ahead:
            raise ValueError(
                f"{', '.join(ahead)}: a rotation stamp in the future (rotate-secrets writes the time "
                "of the rotation, never a later one)"
            )
        return stamps

    @field_validator("protect_stateful")
    @classmethod
    def _protected_in_production(cls, protect: bool, info: ValidationInfo) -> bool:
        if is_production(info) and not protect:
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

    @model_validator(mode="after")
    def _alertmanager_accepts_the_receivers(self) -> StackSettings:
        """What Alertmanager would refuse at load (or never deliver), refused here instead."""
        receivers = self.alerting.receivers
        problems = []
        if receivers.telegram is not None and receivers.telegram.chat_id == 0:
            problems.append("alerting.receivers.telegram.chat_id: 0 is not a chat (Alertmanager refuses it)")
        if receivers.email is not None:
            bad = [i for i, to in enumerate(receivers.email.to) if not _EMAIL.fullmatch(to)]
            if bad:
                problems.append(f"alerting.receivers.email.to[{bad[0]}]: not an email address")
            if len(set(receivers.email.to)) != len(receivers.email.to):
                problems.append("alerting.receivers.email.to: an address is listed twice")
            if not _EMAIL.fullmatch(receivers.email.sender):
                problems.append("alerting.receivers.email.sender: not an email address")
        for severity in ("critical", "warning", "info"):
            route = getattr(self.alerting.routes, severity)
            if len(set(route)) != len(route):
                problems.append(f"alerting.routes.{severity}: a receiver is listed twice")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _canary_within_the_alerts(self) -> StackSettings:
        # A canary allowed more errors than the warning alert would be promoted into an alert.
        warning = self.thresholds.error_rate.warning
        if self.canary.max_error_percent > warning:
            raise ValueError(
                f"canary.max_error_percent ({self.canary.max_error_percent:g}) is above "
                f"thresholds.error_rate.warning ({warning:g}): a canary that trips the alert would pass"
            )
        return self

    def required_secrets(self) -> tuple[str, ...]:
        """The keys of the provided secrets this stack needs, as each one's declaration says."""
        return tuple(s.key for s in PROVIDED_SECRETS if s.required(self.alerting.receivers))

    @model_validator(mode="after")
    def _provided_secrets_set(self, info: ValidationInfo) -> StackSettings:
        if is_offline(info):
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
    def _database_fits_a_node(self) -> StackSettings:
        # Requests equal limits: an instance asking for more than a whole node is never scheduled,
        # and the database waits Pending while everything that needs it fails.
        database, node = self.database, self.node_group
        if database.memory_gb >= node.memory_gb or database.cpu_cores >= node.cores:
            raise ValueError(
                f"database.memory_gb ({database.memory_gb:g}) and database.cpu_cores "
                f"({database.cpu_cores:g}) must each be below a node's node_group.memory_gb "
                f"({node.memory_gb}) and node_group.cores ({node.cores}): an instance bigger than a node "
                "is never scheduled"
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
