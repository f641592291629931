"""Planning a restore: a recovery cluster beside the running one, from the object store.

Pure: it checks the request against the stack's settings and the clock it is
given, and renders the ``Cluster`` that the ``Database`` component creates
for a ``restore`` request. ``infra/ops/automation/restore.py`` applies it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from infra.conventions import APP_NAMESPACE, DB_OWNER_SECRET, Naming
from infra.render.database import manifests
from infra.render.database.plan import backup_plan
from infra.settings.database import RestoreRequest
from infra.settings.stack import StackSettings

COMPONENT_TYPE = "samokoder:database:Database"
COMPONENT_NAME = "database"
CLUSTER_TYPE = "kubernetes:postgresql.cnpg.io/v1:Cluster"
PROJECT = "samokoder"


class RestoreError(ValueError):
    """A restore that cannot be planned; the message names the argument and the fix."""


@dataclass(frozen=True)
class RestorePlan:
    stack: str
    request: RestoreRequest
    manifest: dict[str, Any]

    @property
    def resource_name(self) -> str:
        return f"{COMPONENT_NAME}-restore-{self.request.into}"

    @property
    def urn(self) -> str:
        """The recovery cluster's URN: a targeted update touches this resource and nothing else."""
        return f"urn:pulumi:{self.stack}::{PROJECT}::{COMPONENT_TYPE}${CLUSTER_TYPE}::{self.resource_name}"


def default_name(target_time: datetime | None, now: datetime) -> str:
    moment = (target_time or now).astimezone(UTC)
    return f"samokoder-db-restore-{moment:%Y%m%d-%H%M}"


def plan_restore(
    settings: StackSettings, *, into: str | None, target_time: datetime | None, now: datetime
) -> RestorePlan:
    if target_time is not None and target_time.utcoffset() is not None:
        if target_time > now:
            raise RestoreError(
                f"--target-time {target_time.isoformat()} is in the future (now {now.isoformat()})"
            )
        oldest = now - timedelta(days=settings.database.backup_retention_days)
        if target_time < oldest:
            raise RestoreError(
                f"--target-time {target_time.isoformat()} is older than the stack's "
                f"{settings.database.backup_retention_days}-day backup retention: no backup that old is kept "
                f"(the earliest possible point is about {oldest:%Y-%m-%d %H:%M} UTC)"
            )
    name = into or default_name(target_time, now)
    try:
        request = RestoreRequest(into=name, target_time=target_time)
    except ValidationError as error:
        options = {"into": "--into", "target_time": "--target-time"}
        reasons = "; ".join(
            f"{options[str(item['loc'][0])]}: {item['msg'].removeprefix('Value error, ')}"
            for item in error.errors(include_url=False)
        )
        raise RestoreError(reasons) from None
    naming = Naming(settings.stack)
    manifest = manifests.recovery_cluster(
        naming,
        APP_NAMESPACE,
        settings.database,
        backup_plan(naming, settings.database),
        len(settings.network.zones),
        name=request.into,
        target_time=request.target_time,
        # As the program renders it (infra/ops/program.py): the app's login works on the copy.
        owner_secret=DB_OWNER_SECRET,
    )
    return RestorePlan(settings.stack, request, manifest)
