"""The CloudNativePG and Barman Cloud plugin objects of a stack's database, as plain dicts.

Each function returns one Kubernetes object exactly as it is applied; the
``Database`` component wraps them in ``CustomResource`` and the tests validate
them against the operators' CRD schemas.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from infra.conventions import Naming
from infra.render.database import plan as p
from infra.render.database.plan import BackupPlan
from infra.settings.database import DatabaseProfile

CNPG_API = "postgresql.cnpg.io/v1"
BARMAN_API = "barmancloud.cnpg.io/v1"
MONITORING_API = "monitoring.coreos.com/v1"
ZONE_KEY = "topology.kubernetes.io/zone"
METRICS_PORT = "metrics"


def _metadata(naming: Naming, name: str, namespace: str, component: str) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": naming.k8s_labels(name, component)}


def _quantities(profile: DatabaseProfile) -> dict[str, str]:
    return {"cpu": f"{round(profile.cpu_cores * 1000)}m", "memory": f"{round(profile.memory_gb * 1024)}Mi"}


def object_store(naming: Naming, namespace: str, backups: BackupPlan) -> dict[str, Any]:
    """Where WAL and base backups go: Object Storage through the Barman Cloud plugin."""

    def secret_key(key: str) -> dict[str, str]:
        return {"name": p.BACKUP_CREDENTIALS_SECRET, "key": key}

    return {
        "apiVersion": BARMAN_API,
        "kind": "ObjectStore",
        "metadata": _metadata(naming, p.OBJECT_STORE, namespace, "backup"),
        "spec": {
            "retentionPolicy": backups.retention_policy,
            # boto3 1.36+ sends CRC checksums S3-compatible stores reject (Yandex
            # Object Storage since 2025); the plugin's docs ask for these there.
            "instanceSidecarConfiguration": {
                "env": [{"name": name, "value": "when_required"} for name in p.S3_CHECKSUM_SETTINGS]
            },
            "configuration": {
                "destinationPath": backups.destination_path,
                "endpointURL": p.S3_ENDPOINT,
                "s3Credentials": {
                    "accessKeyId": secret_key(p.ACCESS_KEY_ID_KEY),
                    "secretAccessKey": secret_key(p.SECRET_ACCESS_KEY_KEY),
                    "region": secret_key(p.REGION_KEY),
                },
                # Encryption at rest is the bucket's default (its KMS key), so
                # barman-cloud need not ask for it object by object.
                "wal": {"compression": backups.wal_compression, "maxParallel": p.WAL_MAX_PARALLEL},
                "data": {"compression": backups.data_compression, "jobs": 2},
            },
        },
    }


def _barman_plugin(server_name: str | None = None) -> dict[str, Any]:
    parameters = {"barmanObjectName": p.OBJECT_STORE}
    if server_name:
        parameters["serverName"] = server_name
    return {"name": p.BARMAN_PLUGIN, "isWALArchiver": True, "parameters": parameters}


def _cluster_spec(profile: DatabaseProfile, zones: int, archive_timeout_seconds: int) -> dict[str, Any]:
    resources = _quantities(profile)
    return {
        "instances": profile.instances,
        "imageName": p.POSTGRES_IMAGE,
        # Replicas first, then a switchover: the primary moves once, on purpose.
        "primaryUpdateStrategy": "unsupervised",
        "postgresql": {
            "parameters": {
                # A partly filled WAL segment is switched and archived after
                # this long: the recovery point objective.
                "archive_timeout": f"{archive_timeout_seconds}s",
            },
        },
        "storage": {"size": f"{profile.storage_gb}Gi", "storageClass": profile.storage_class},
        "resources": {"requests": resources, "limits": resources},
        "affinity": {
            "enablePodAntiAffinity": True,
            "topologyKey": ZONE_KEY,
            # One instance per zone where there are zones enough; a
            # scheduler that cannot keep that promise still starts them.
            "podAntiAffinityType": "required" if profile.instances <= zones else "preferred",
        },
    }


def cluster(
    naming: Naming,
    namespace: str,
    profile: DatabaseProfile,
    backups: BackupPlan,
    zones: int,
    *,
    owner_secret: str | None = None,
) -> dict[str, Any]:
    """The running cluster: the app's database and owner, WAL archived through the plugin.

    With ``owner_secret`` (a basic-auth Secret) the owner's password is ours,
    and a declared role keeps it in step when the Secret changes (rotation);
    without it CloudNativePG generates one into ``<cluster>-app``.
    """
    spec = _cluster_spec(profile, zones, backups.archive_timeout_seconds)
    initdb: dict[str, Any] = {"database": p.DATABASE, "owner": p.OWNER}
    if owner_secret:
        initdb["secret"] = {"name": owner_secret}
        spec["managed"] = {
            "roles": [
                {
                    "name": p.OWNER,
                    "ensure": "present",
                    "login": True,
                    "passwordSecret": {"name": owner_secret},
                }
            ]
        }
    spec["bootstrap"] = {"initdb": initdb}
    spec["plugins"] = [_barman_plugin()]
    return {
        "apiVersion": CNPG_API,
        "kind": "Cluster",
        "metadata": _metadata(naming, p.CLUSTER, namespace, "database"),
        "spec": spec,
    }


def scheduled_backup(naming: Naming, namespace: str, backups: BackupPlan) -> dict[str, Any]:
    """A daily base backup through the plugin; the first one right after creation."""
    name = f"{p.CLUSTER}-daily"
    return {
        "apiVersion": CNPG_API,
        "kind": "ScheduledBackup",
        "metadata": _metadata(naming, name, namespace, "backup"),
        "spec": {
            "schedule": backups.schedule,
            "immediate": True,
            "backupOwnerReference": "self",
            "cluster": {"name": p.CLUSTER},
            "method": "plugin",
            "pluginConfiguration": {"name": p.BARMAN_PLUGIN},
        },
    }


def pooler(naming: Naming, namespace: str, profile: DatabaseProfile) -> dict[str, Any]:
    """PgBouncer in front of the primary: the address the app connects to."""
    return {
        "apiVersion": CNPG_API,
        "kind": "Pooler",
        "metadata": _metadata(naming, p.POOLER, namespace, "database-pooler"),
        "spec": {
            "cluster": {"name": p.CLUSTER},
            "instances": profile.pooler_instances,
            "type": "rw",
            "pgbouncer": {
                "poolMode": "transaction",
                "parameters": {
                    "max_client_conn": "1000",
                    "default_pool_size": "20",
                    # asyncpg prepares statements; PgBouncer tracks them across
                    # transactions only when this is set.
                    "max_prepared_statements": "200",
                },
            },
        },
    }


def pod_monitor(naming: Naming, namespace: str) -> dict[str, Any]:
    """Scrapes every instance's exporter: CloudNativePG's collector and the plugin's backup metrics."""
    name = p.CLUSTER
    return {
        "apiVersion": MONITORING_API,
        "kind": "PodMonitor",
        "metadata": _metadata(naming, name, namespace, "database"),
        "spec": {
            "selector": {"matchLabels": {"cnpg.io/cluster": p.CLUSTER, "cnpg.io/podRole": "instance"}},
            "podMetricsEndpoints": [
                {
                    "port": METRICS_PORT,
                    # The alerts group by cluster and pod whatever the exporter labels.
                    "relabelings": [
                        {
                            "action": "replace",
                            "sourceLabels": ["__meta_kubernetes_pod_label_cnpg_io_cluster"],
                            "targetLabel": "cluster",
                        },
                    ],
                }
            ],
        },
    }


def recovery_cluster(
    naming: Naming,
    namespace: str,
    profile: DatabaseProfile,
    backups: BackupPlan,
    zones: int,
    *,
    name: str,
    target_time: datetime | None,
) -> dict[str, Any]:
    """A new cluster bootstrapped from the object store, at ``target_time`` or the latest point.

    It reads the running cluster's archive and writes its own under its own
    server name, so it can never overwrite the source or its backups.
    """
    if name == p.CLUSTER:
        raise ValueError(f"a restore cannot be named {p.CLUSTER!r}: that is the running cluster")
    recovery: dict[str, Any] = {"source": "origin", "database": p.DATABASE, "owner": p.OWNER}
    if target_time is not None:
        recovery["recoveryTarget"] = {"targetTime": target_time.isoformat()}
    spec = _cluster_spec(profile, zones, backups.archive_timeout_seconds)
    spec["bootstrap"] = {"recovery": recovery}
    spec["externalClusters"] = [
        {
            "name": "origin",
            "plugin": {
                "name": p.BARMAN_PLUGIN,
                "parameters": {"barmanObjectName": p.OBJECT_STORE, "serverName": p.CLUSTER},
            },
        }
    ]
    spec["plugins"] = [_barman_plugin(server_name=name)]
    return {
        "apiVersion": CNPG_API,
        "kind": "Cluster",
        "metadata": _metadata(naming, name, namespace, "database-restore"),
        "spec": spec,
    }
