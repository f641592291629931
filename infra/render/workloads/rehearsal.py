"""The migration rehearsal's objects: a throwaway copy of the database and the Job that migrates it.

The copy is CloudNativePG's recovery bootstrap from the stack's object store, to the end of its
archive: the stack's real data as of minutes ago, one instance, no archive of its own, and every
DDL statement in its log (``log_statement = ddl``; CloudNativePG leaves it settable and logs
csvlog as JSON, pkg/postgres/configuration.go:504-566 at v1.30.0). The Job runs the release's
image with the steps script (infra/render/database/rehearse_steps.py) against the copy's
read-write Service, with the app's own credentials (a physical copy keeps the roles).
infra/ops/releases/rehearsal.py judges what they print; the command deletes both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infra.app_contract import MIGRATIONS
from infra.conventions import APP_NAMESPACE, NAME_LABEL, Naming
from infra.render.database import manifests, rehearse_steps
from infra.render.database.plan import BackupPlan
from infra.render.workloads.manifests import app_environment
from infra.render.workloads.security import container_security, pod_security
from infra.settings.database import DatabaseProfile

REHEARSAL = "migration-rehearsal"
REHEARSE = {NAME_LABEL: REHEARSAL}
# On the copy's instance and job pods, through the Cluster's inheritedMetadata (CloudNativePG
# internal/controller/cluster_create.go:1309-1312,1586-1587 at v1.30.0): the one database the
# rehearsal's pod may reach (network_policies.py).
COPY = {"samokoder.ru/rehearsal": "copy"}
COMPONENT = "database-rehearsal"
STEPS_SCRIPT = Path(rehearse_steps.__file__).read_text()
DEADLINE_SECONDS = 1800
# The release image's Alembic and its configuration, as the migration Job runs them.
ALEMBIC, _, ALEMBIC_CONFIG = MIGRATIONS.command[:3]


def copy_name(revision: str) -> str:
    return f"samokoder-db-rehearsal-{revision}"


def rehearsal_cluster(
    naming: Naming, profile: DatabaseProfile, backups: BackupPlan, zones: int, revision: str
) -> dict[str, Any]:
    name = copy_name(revision)
    cluster = manifests.recovery_cluster(
        naming, APP_NAMESPACE, profile, backups, zones, name=name, target_time=None
    )
    cluster["metadata"]["labels"] = naming.k8s_labels(name, COMPONENT)
    spec = cluster["spec"]
    spec["instances"] = 1
    spec["inheritedMetadata"] = {"labels": dict(COPY)}
    # A copy to throw away: no WAL archive of its own in the stack's bucket.
    spec["plugins"] = []
    spec["postgresql"]["parameters"] |= {"log_statement": "ddl", "log_timezone": "UTC"}
    return cluster


def rehearsal_job(naming: Naming, revision: str, api_image: str) -> dict[str, Any]:
    name = f"{REHEARSAL}-{revision}"
    labels = {**naming.k8s_labels(REHEARSAL, "migration"), **REHEARSE}
    environment = {
        "REHEARSAL_HOST": f"{copy_name(revision)}-rw.{APP_NAMESPACE}.svc",
        "REHEARSAL_PORT": "5432",
        "ALEMBIC": ALEMBIC,
        "ALEMBIC_CONFIG": ALEMBIC_CONFIG,
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": APP_NAMESPACE, "labels": labels},
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": DEADLINE_SECONDS,
            "ttlSecondsAfterFinished": 3600,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": pod_security(),
                    "containers": [
                        {
                            "name": "rehearse",
                            "image": api_image,
                            "command": ["python", "-c", STEPS_SCRIPT],
                            "envFrom": app_environment(),
                            "env": [{"name": k, "value": v} for k, v in environment.items()],
                            "resources": {
                                "requests": {"cpu": "100m", "memory": "256Mi"},
                                "limits": {"cpu": "1", "memory": "512Mi"},
                            },
                            "securityContext": container_security(),
                            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                        }
                    ],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
                },
            },
        },
    }
