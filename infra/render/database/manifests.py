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
from infra.render.k8s import ours
from infra.settings.database import DatabaseProfile

CNPG_API = "postgresql.cnpg.io/v1"
MONITORING_API = "monitoring.coreos.com/v1"
ZONE_KEY = "topology.kubernetes.io/zone"
METRICS_PORT = "metrics"


def object_store(naming: Naming, namespace: str, backups: BackupPlan) -> dict[str, Any]:
    """Where WAL and base backups go: Object Storage through the Barman Cloud plugin."""

    def secret_key(key: str) -> dict[str, str]:
        return {"name": p.BACKUP_CREDENTIALS_SECRET, "key": key}

    spec = {
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
    }
    api = "barmancloud.cnpg.io/v1"
    return ours(api, "ObjectStore", naming, p.OBJECT_STORE, "backup", namespace=namespace, spec=spec)


def _barman(server_name: str | None, **fields: Any) -> dict[str, Any]:
    """The plugin on the object store's archive of ``server_name`` (by default the cluster's own name)."""
    parameters = {"barmanObjectName": p.OBJECT_STORE}
    if server_name:
        parameters["serverName"] = server_name
    return {"name": p.BARMAN_PLUGIN, **fields, "parameters": parameters}


def _archive_name(name: str, backups: BackupPlan) -> str | None:
    """plan.archive_name, left out where it is the running cluster's own name (the plugin's default,
    plugin-barman-cloud v0.13.0 internal/cnpgi/operator/config/config.go:148-155)."""
    archive = p.archive_name(name, backups.server_name)
    return None if archive == p.CLUSTER else archive


def _cluster(
    naming: Naming,
    namespace: str,
    name: str,
    profile: DatabaseProfile,
    backups: BackupPlan,
    *,
    zones: int,
    **spec: Any,
) -> dict[str, Any]:
    """A Cluster of the profile's size archiving its WAL under its own name; ``spec``: how it starts."""
    resources = {
        "cpu": f"{round(profile.cpu_cores * 1000)}m",
        "memory": f"{round(profile.memory_gb * 1024)}Mi",
    }
    common = {
        "instances": profile.instances,
        "imageName": p.POSTGRES_IMAGE,
        # Replicas first, then a switchover: the primary moves once, on purpose.
        "primaryUpdateStrategy": "unsupervised",
        # A partly filled WAL segment is switched and archived after
        # this long: the recovery point objective.
        "postgresql": {"parameters": {"archive_timeout": f"{backups.archive_timeout_seconds}s"}},
        "storage": {"size": f"{profile.storage_gb}Gi", "storageClass": profile.storage_class},
        "resources": {"requests": resources, "limits": resources},
        "affinity": {
            "enablePodAntiAffinity": True,
            "topologyKey": ZONE_KEY,
            # One instance per zone where there are zones enough; a
            # scheduler that cannot keep that promise still starts them.
            "podAntiAffinityType": "required" if profile.instances <= zones else "preferred",
        },
        "plugins": [_barman(_archive_name(name, backups), isWALArchiver=True)],
    }
    component = "database" if name == p.CLUSTER else "database-restore"
    return ours(CNPG_API, "Cluster", naming, name, component, namespace=namespace, spec={**common, **spec})


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
    initdb: dict[str, Any] = {"database": p.DATABASE, "owner": p.OWNER}
    managed = {}
    if owner_secret:
        initdb["secret"] = {"name": owner_secret}
        managed = {"managed": {"roles": [_owner_role(owner_secret)]}}
    start: dict[str, Any] = {"bootstrap": {"initdb": initdb}}
    if (origin := profile.recover_from) is not None:
        # A rebuild: the same owner and role, the data from the old archive (it keeps the old roles'
        # passwords; the declared role sets the delivered one once the instance runs).
        start = _recovery(origin.server_name, origin.target_time, secret=initdb.get("secret"))
    return _cluster(naming, namespace, p.CLUSTER, profile, backups, zones=zones, **managed, **start)


def _label(cluster: str, suffix: str) -> str:
    """The name label of an object of ``cluster`` named ``<cluster><suffix>``: that name for the running
    cluster's, the cluster's own for a restored one's, whose name may leave no room for the suffix
    within the 40 characters a name label may take (infra/conventions.py MAX_OBJECT_NAME)."""
    return f"{cluster}{suffix}" if cluster == p.CLUSTER else cluster


def _renamed(made: dict[str, Any], name: str) -> dict[str, Any]:
    made["metadata"]["name"] = name
    return made


def _owner_role(owner_secret: str) -> dict[str, Any]:
    """The app's owner, its password the basic-auth Secret's: a change there is applied to the role."""
    return {"name": p.OWNER, "ensure": "present", "login": True, "passwordSecret": {"name": owner_secret}}


def backup_spec(cluster: str = p.CLUSTER) -> dict[str, Any]:
    """A Backup's or ScheduledBackup's spec: a cluster's (by default the running one), by the plugin."""
    return {
        "cluster": {"name": cluster},
        "method": "plugin",
        "pluginConfiguration": {"name": p.BARMAN_PLUGIN},
    }


def scheduled_backup(
    naming: Naming, namespace: str, backups: BackupPlan, cluster: str = p.CLUSTER
) -> dict[str, Any]:
    """A daily base backup of ``cluster`` through the plugin; the first one right after creation, but
    on a rebuild, where the migration's pre-migration backup is the new archive's first."""
    spec = {
        "schedule": backups.schedule,
        "immediate": backups.immediate or cluster != p.CLUSTER,
        "backupOwnerReference": "self",
        **backup_spec(cluster),
    }
    made = ours(
        CNPG_API,
        "ScheduledBackup",
        naming,
        _label(cluster, "-daily"),
        "backup",
        namespace=namespace,
        spec=spec,
    )
    return _renamed(made, f"{cluster}-daily")


def pooler(
    naming: Naming, namespace: str, profile: DatabaseProfile, cluster: str = p.CLUSTER
) -> dict[str, Any]:
    """PgBouncer in front of ``cluster``'s primary: the address the app connects to."""
    parameters = {
        "max_client_conn": "1000",
        "default_pool_size": "20",
        # asyncpg prepares statements; PgBouncer tracks them across
        # transactions only when this is set.
        "max_prepared_statements": "200",
    }
    spec = {
        "cluster": {"name": cluster},
        "instances": profile.pooler_instances,
        "type": "rw",
        "pgbouncer": {"poolMode": "transaction", "parameters": parameters},
    }
    label = _label(cluster, p.pooler_name(cluster).removeprefix(cluster))
    made = ours(CNPG_API, "Pooler", naming, label, "database-pooler", namespace=namespace, spec=spec)
    return _renamed(made, p.pooler_name(cluster))


def pod_monitor(naming: Naming, namespace: str, cluster: str = p.CLUSTER) -> dict[str, Any]:
    """Scrapes every instance of ``cluster`` (by default the running one): CloudNativePG's collector and
    the plugin's backup metrics. CloudNativePG labels each instance pod with its Cluster's name and
    its role (``cnpg.io/cluster``, ``cnpg.io/podRole: instance``: pkg/specs/pods.go:546-548 at v1.30.0)
    and names the exporter's port ``metrics`` (:269-270)."""
    # The alerts group by cluster and pod whatever the exporter labels.
    cluster_label = {
        "action": "replace",
        "sourceLabels": ["__meta_kubernetes_pod_label_cnpg_io_cluster"],
        "targetLabel": "cluster",
    }
    spec = {
        "selector": {"matchLabels": {"cnpg.io/cluster": cluster, "cnpg.io/podRole": "instance"}},
        "podMetricsEndpoints": [{"port": METRICS_PORT, "relabelings": [cluster_label]}],
    }
    return ours(MONITORING_API, "PodMonitor", naming, cluster, "database", namespace=namespace, spec=spec)


def recovery_cluster(
    naming: Naming,
    namespace: str,
    profile: DatabaseProfile,
    backups: BackupPlan,
    zones: int,
    *,
    name: str,
    target_time: datetime | None,
    owner_secret: str | None = None,
) -> dict[str, Any]:
    """A new cluster bootstrapped from the object store, at ``target_time`` or the latest point.

    It reads the running cluster's archive and writes its own under its own
    server name, so it can never overwrite the source or its backups. The
    owner role comes back from the backup with the password it had then;
    with ``owner_secret`` it takes the Secret's once recovered and follows its
    rotations as the running cluster's does, so the app's login works on it.
    """
    if name == p.CLUSTER:
        raise ValueError(f"a restore cannot be named {p.CLUSTER!r}: that is the running cluster")
    managed = {}
    secret = None
    if owner_secret:
        # CloudNativePG backs up no Secret: the roles come back as the backup has them
        # (docs/src/recovery.md:250-253 at v1.30.0); the recovery's secret sets the owner's
        # password once recovery completes (:550-559), the declared role keeps it in step after.
        secret = {"name": owner_secret}
        managed = {"managed": {"roles": [_owner_role(owner_secret)]}}
    start = _recovery(backups.server_name, target_time, secret=secret)
    return _cluster(naming, namespace, name, profile, backups, zones=zones, **managed, **start)


def _recovery(
    server_name: str, target_time: datetime | None, *, secret: dict[str, str] | None = None
) -> dict[str, Any]:
    """The spec fields that start a cluster from the archive of ``server_name``, read through the plugin.

    CloudNativePG's recovery bootstrap (api/v1/cluster_types.go:2106-2154 at v1.30.0: ``source``
    names an external cluster, ``recoveryTarget``, ``database``, ``owner``, ``secret``) reads
    the external cluster's ``plugin`` (:2516); the plugin takes that entry's ``barmanObjectName``
    and ``serverName`` as the archive to restore (plugin-barman-cloud v0.13.0
    internal/cnpgi/operator/config/config.go:158-164).
    """
    recovery: dict[str, Any] = {"source": "origin", "database": p.DATABASE, "owner": p.OWNER}
    if secret is not None:
        recovery["secret"] = secret
    if target_time is not None:
        recovery["recoveryTarget"] = {"targetTime": target_time.isoformat()}
    origin = {"name": "origin", "plugin": _barman(server_name)}
    return {"bootstrap": {"recovery": recovery}, "externalClusters": [origin]}
