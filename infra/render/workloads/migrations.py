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
from infra.render.database.plan import BARMAN_PLUGIN
from infra.render.workloads.manifests import app_environment
from infra.render.workloads.network_policies import MIGRATE
from infra.render.workloads.security import container_security, pod_security

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


def pre_migration_backup(naming: Naming, revision: str) -> dict[str, Any]:
    name = backup_name(revision)
    return {
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "Backup",
        "metadata": {"name": name, "namespace": APP_NAMESPACE, "labels": naming.k8s_labels(name, "backup")},
        "spec": {
            "cluster": {"name": DATABASE_CLUSTER},
            "method": "plugin",
            "pluginConfiguration": {"name": BARMAN_PLUGIN},
        },
    }


def migration_job(naming: Naming, revision: str, api_image: str) -> dict[str, Any]:
    name = job_name(revision)
    labels = {**naming.k8s_labels(ACCOUNT, "migration"), **MIGRATE}
    tmp = {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": APP_NAMESPACE,
            "labels": labels,
            # Pulumi waits for a Job to complete, 10 minutes by default: as long as the
            # Job may run (the backup wait included), or a first deploy fails `up`. The
            # provider reads this annotation when no customTimeouts are set
            # (pulumi-kubernetes provider/pkg/await/await.go:306-309, metadata/overrides.go:
            # 53-63 at v4.32.0); tests/test_awaits.py holds every awaited object to it.
            "annotations": {
                "pulumi.com/timeoutSeconds": str(JOB_DEADLINE_SECONDS + PULUMI_WAIT_MARGIN_SECONDS)
            },
        },
        "spec": {
            # A failed migration is looked at, not retried blindly.
            "backoffLimit": 0,
            "activeDeadlineSeconds": JOB_DEADLINE_SECONDS,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "restartPolicy": "Never",
                    "serviceAccountName": ACCOUNT,
                    "enableServiceLinks": False,
                    "securityContext": pod_security(),
                    "initContainers": [
                        {
                            "name": "wait-for-backup",
                            "image": api_image,
                            "command": ["python", "-c", WAIT_SCRIPT],
                            "env": [
                                {"name": "BACKUP_NAME", "value": backup_name(revision)},
                                {"name": "BACKUP_NAMESPACE", "value": APP_NAMESPACE},
                                {"name": "TIMEOUT_SECONDS", "value": str(BACKUP_TIMEOUT_SECONDS)},
                            ],
                            "resources": _small(),
                            "securityContext": container_security(),
                        }
                    ],
                    "containers": [
                        {
                            "name": "migrate",
                            "image": api_image,
                            # alembic/versions has three heads: `upgrade heads` (infra/app_contract.py).
                            "command": list(MIGRATIONS.command),
                            "envFrom": app_environment(),
                            "resources": _small(),
                            "securityContext": container_security(),
                            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                        }
                    ],
                    "volumes": [tmp],
                },
            },
        },
    }


def _small() -> dict[str, Any]:
    return {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}


def migration_access(naming: Naming) -> list[dict[str, Any]]:
    """The Job's account may read Backups in this namespace, nothing else."""
    labels = naming.k8s_labels(ACCOUNT, "migration")
    metadata = {"name": ACCOUNT, "namespace": APP_NAMESPACE, "labels": labels}
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": metadata,
            "automountServiceAccountToken": True,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": metadata,
            "rules": [
                {
                    "apiGroups": ["postgresql.cnpg.io"],
                    "resources": ["backups"],
                    "verbs": ["get", "list", "watch"],
                }
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": metadata,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": ACCOUNT},
            "subjects": [{"kind": "ServiceAccount", "name": ACCOUNT, "namespace": APP_NAMESPACE}],
        },
    ]
