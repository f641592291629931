"""Migrations behind a backup: an on-demand base backup, then `alembic upgrade head`, then the rollout.

Both objects are named after the release's migration revision, so they exist
once per revision: a release that keeps the revision changes neither (and
re-runs nothing); one that moves it creates a new Backup and a new Job. The
Job waits for the Backup to complete before it migrates, and the Deployments
wait for the Job: a failed migration leaves the running version serving.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infra.app_contract import MIGRATIONS
from infra.conventions import APP_NAMESPACE, DATABASE_CLUSTER, MIGRATION, Naming
from infra.render.database.manifests import backup_spec
from infra.render.k8s import manifest, ours
from infra.render.workloads.manifests import app_environment, job_container
from infra.render.workloads.network_policies import MIGRATE
from infra.render.workloads.security import pod_security

ACCOUNT = MIGRATION
JOB_DEADLINE_SECONDS = 3600
PULUMI_WAIT_MARGIN_SECONDS = 300
# Waiting for the backup, in the api image's own Python (no third-party image).
WAIT_SCRIPT = (Path(__file__).parent / "wait_for_backup.py").read_text()
BACKUP_TIMEOUT_SECONDS = 3300


def backup_name(revision: str) -> str:
    return f"{DATABASE_CLUSTER}-pre-migration-{revision}"


def job_name(revision: str) -> str:
    return f"{MIGRATION}-{revision}"


def pre_migration_backup(naming: Naming, revision: str, cluster: str = DATABASE_CLUSTER) -> dict[str, Any]:
    """A base backup of the cluster the migration runs on: the one that serves the app."""
    spec = backup_spec(cluster)
    return ours("postgresql.cnpg.io/v1", "Backup", naming, backup_name(revision), "backup", spec=spec)


def migration_job(naming: Naming, revision: str, api_image: str) -> dict[str, Any]:
    labels = {**naming.k8s_labels(ACCOUNT, "migration"), **MIGRATE}
    settings = {"BACKUP_NAME": backup_name(revision), "BACKUP_NAMESPACE": APP_NAMESPACE}
    settings["TIMEOUT_SECONDS"] = str(BACKUP_TIMEOUT_SECONDS)
    wait = job_container(
        "wait-for-backup",
        api_image,
        ["python", "-c", WAIT_SCRIPT],
        env=[{"name": name, "value": value} for name, value in settings.items()],
    )
    # alembic/versions has three heads: `upgrade heads` (infra/app_contract.py).
    migrate = job_container(
        "migrate",
        api_image,
        list(MIGRATIONS.command),
        envFrom=app_environment(),
        volumeMounts=[{"name": "tmp", "mountPath": "/tmp"}],
    )
    pod = {
        "restartPolicy": "Never",
        "serviceAccountName": ACCOUNT,
        "enableServiceLinks": False,
        "securityContext": pod_security(),
        "initContainers": [wait],
        "containers": [migrate],
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
    }
    # Pulumi waits for a Job to complete, 10 minutes by default: as long as the Job may run
    # (the backup wait included), or a first deploy fails `up`. The provider reads this
    # annotation when no customTimeouts are set (pulumi-kubernetes provider/pkg/await/await.go:
    # 306-309, metadata/overrides.go:53-63 at v4.32.0); tests/test_awaits.py holds every awaited
    # object to it.
    timeout = {"pulumi.com/timeoutSeconds": str(JOB_DEADLINE_SECONDS + PULUMI_WAIT_MARGIN_SECONDS)}
    return manifest(
        "batch/v1",
        "Job",
        {"name": job_name(revision), "namespace": APP_NAMESPACE, "labels": labels, "annotations": timeout},
        spec={
            # A failed migration is looked at, not retried blindly.
            "backoffLimit": 0,
            "activeDeadlineSeconds": JOB_DEADLINE_SECONDS,
            "template": {"metadata": {"labels": labels}, "spec": pod},
        },
    )


def migration_access(naming: Naming) -> list[dict[str, Any]]:
    """The Job's account may read Backups in this namespace, nothing else."""
    rbac = "rbac.authorization.k8s.io"
    read = {"apiGroups": ["postgresql.cnpg.io"], "resources": ["backups"], "verbs": ["get", "list", "watch"]}
    account = {"kind": "ServiceAccount", "name": ACCOUNT, "namespace": APP_NAMESPACE}
    return [
        ours("v1", "ServiceAccount", naming, ACCOUNT, "migration", automountServiceAccountToken=True),
        ours(f"{rbac}/v1", "Role", naming, ACCOUNT, "migration", rules=[read]),
        ours(
            f"{rbac}/v1",
            "RoleBinding",
            naming,
            ACCOUNT,
            "migration",
            roleRef={"apiGroup": rbac, "kind": "Role", "name": ACCOUNT},
            subjects=[account],
        ),
    ]
