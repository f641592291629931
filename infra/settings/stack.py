"""The one model of a stack's settings: the merge of its profile (``stacks/<stack>.yaml``: sizes,
replicas, zones, retention, SLO targets, thresholds, alert routes) and its stack file
(``Pulumi.<stack>.yaml``, namespace ``samokoder:``: identity, release, secrets).

Every model forbids unknown keys so that a typo fails instead of silently taking a default. Rules
that hold only for production stacks (three zones, a regional master, HA replicas) are checked next
to the fields they constrain, in the area modules (the validation context says whether the stack is
a production one); rules that span areas are checked here.
"""

from __future__ import annotations

import operator
from datetime import UTC, datetime, timedelta
from itertools import combinations

from pydantic import Field, ValidationInfo, field_validator, model_validator

from infra.conventions import DATABASE_CLUSTER, MAX_STACK_NAME
from infra.settings.base import StrictModel, is_offline, production_rules
from infra.settings.canary import CanaryProfile
from infra.settings.cluster import ClusterProfile, NetworkProfile, NodeGroupProfile
from infra.settings.database import CutOver, DatabaseProfile, RestoreRequest
from infra.settings.logs import LogsProfile
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
        "bucket, the logs' bucket, the KMS keys, the Lockbox secrets, the site's address and zone)",
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
    logs: LogsProfile
    secrets_policy: SecretsProfile
    canary: CanaryProfile
    image_scan: ImageScan = ImageScan()
    # Set by `samokoder-infra restore --apply` in the stack file, cleared after.
    restore: RestoreRequest | None = None
    # Set by `samokoder-infra cut-over --to` in the stack file: the app is served from the restored
    # cluster; `--back` removes it. After `restore`: its validator reads the restore request.
    cut_over: CutOver | None = None
    # From the stack file: provided secrets, Lockbox access, rotation requests.
    secrets: ProvidedSecrets = ProvidedSecrets()
    lockbox: LockboxSettings = LockboxSettings()
    rotation: dict[SecretGroup, datetime] = Field(
        default_factory=dict,
        description="set by `samokoder-infra rotate-secrets`: a group stamped here is regenerated at the "
        "next `pulumi up`",
    )

    @field_validator("cut_over")
    @classmethod
    def _cut_over_to_the_restored_cluster(cls, value: CutOver | None, info: ValidationInfo) -> CutOver | None:
        # A restore request that failed its own checks is reported there, not twice.
        if value is None or "restore" not in info.data:
            return value
        restore: RestoreRequest | None = info.data["restore"]
        if restore is None:
            raise ValueError(
                f"{value.to!r} is no restored cluster of this stack: samokoder:restore is not set "
                "(create one first: samokoder-infra restore STACK --apply)"
            )
        if value.to != restore.into:
            raise ValueError(
                f"{value.to!r} is not this stack's restored cluster: samokoder:restore.into is "
                f"{restore.into!r}"
            )
        return value

    @property
    def database_cluster(self) -> str:
        """The cluster the app is served from: the running one, or the restored one it was cut over to."""
        return self.cut_over.to if self.cut_over is not None else DATABASE_CLUSTER

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

    _in_production = production_rules(
        {"protect_stateful": (operator.not_, "a production stack protects its stateful resources")}
    )

    @model_validator(mode="after")
    def _address_plan(self) -> StackSettings:
        ranges = {
            "network.cidr": self.network.cidr,
            "cluster.pod_cidr": self.cluster.pod_cidr,
            "cluster.service_cidr": self.cluster.service_cidr,
        }
        for (first, one), (second, other) in combinations(ranges.items(), 2):
            if one.overlaps(other):
                raise ValueError(f"{first} {one} overlaps {second} {other}")
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
    def _areas_agree(self) -> StackSettings:
        database, node, zones = self.database, self.node_group, len(self.network.zones)
        max_replicas, warning = self.workloads.api_max_replicas, self.thresholds.error_rate.warning
        checks = [
            (
                self.monitoring.retention_days < self.slo.window_days,
                f"monitoring.retention_days ({self.monitoring.retention_days}) is shorter than "
                f"slo.window_days ({self.slo.window_days}): the SLO window could not be computed",
            ),
            # A canary allowed more errors than the warning alert would be promoted into an alert.
            (
                self.canary.max_error_percent > warning,
                f"canary.max_error_percent ({self.canary.max_error_percent:g}) is above "
                f"thresholds.error_rate.warning ({warning:g}): a canary that trips the alert would pass",
            ),
            (
                max_replicas < self.replicas.api,
                f"workloads.api_max_replicas ({max_replicas}) is below replicas.api ({self.replicas.api})",
            ),
            # Requests equal limits: an instance asking for more than a whole node is never scheduled,
            # and the database waits Pending while everything that needs it fails.
            (
                database.memory_gb >= node.memory_gb or database.cpu_cores >= node.cores,
                f"database.memory_gb ({database.memory_gb:g}) and database.cpu_cores "
                f"({database.cpu_cores:g}) must each be below a node's node_group.memory_gb "
                f"({node.memory_gb}) and node_group.cores ({node.cores}): an instance bigger than a node "
                "is never scheduled",
            ),
            # A restore archives under its own name: never into the running cluster's archive or
            # the one a rebuild reads.
            (
                self.restore is not None
                and self.restore.into in {database.server_name, *_recovered(database)},
                f"restore.into ({self.restore.into if self.restore else ''}) is a server name the "
                "database archives under or recovers from (database.server_name, "
                "database.recover_from.server_name): the restore would write into that archive",
            ),
            (
                self.cluster.regional_master and zones != 3,
                f"cluster.regional_master needs exactly 3 zones in network.zones (got {zones})",
            ),
        ]
        broken = [reason for failed, reason in checks if failed]
        if broken:
            raise ValueError("; ".join(broken))
        return self


def _recovered(database: DatabaseProfile) -> set[str]:
    return set() if database.recover_from is None else {database.recover_from.server_name}
