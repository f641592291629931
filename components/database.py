"""Database: PostgreSQL 15 on CloudNativePG, WAL archived and backed up daily to Object Storage.

The backup writer may write to this bucket and use this key, and nothing else;
its static access key reaches the cluster only as a Kubernetes Secret. The
plugin's ``ObjectStore`` carries the Cluster's WAL archive and daily base
backups; with a restore request a recovery cluster is created beside the
running one, and once the app is cut over to it (``samokoder:cut_over``) it
gets a Pooler, daily base backups and a PodMonitor of its own and ``pooler_host`` is its.

Bucket management itself uses the provider's storage key
(``YC_STORAGE_ACCESS_KEY``/``YC_STORAGE_SECRET_KEY``, see docs/operations.md, Credentials).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import pulumi
import pulumi_yandex as yandex

from components.cert_manager import CertManager
from components.encrypted_bucket import BucketSpec, encrypted_bucket
from components.kube import (
    Component,
    HelmRelease,
    KubernetesObject,
    custom_resource,
    helm_release,
    installation,
    secret,
)
from components.monitoring import Monitoring
from components.secrets import Secrets
from infra.conventions import DATABASE_OPERATOR_NAMESPACE, Naming
from infra.render import charts
from infra.render.database import manifests, operators
from infra.render.database import plan as p
from infra.settings.database import DatabaseProfile, RestoreRequest

# Deleted or overwritten backup objects stay recoverable this long (versioning).
NONCURRENT_VERSION_DAYS: Final = 14


@dataclass(frozen=True)
class DatabaseArgs:
    naming: Naming
    folder_id: str
    profile: DatabaseProfile
    # Zones the node groups span: instances are spread one per zone.
    zones: int
    # The app namespace's name, and the object: created first.
    namespace: str
    app_namespace: KubernetesObject
    protect: bool
    # cert-manager issues the plugin's certificates; the monitoring release has
    # the PodMonitor CRD; the secrets component delivers the owner's login.
    cert_manager: CertManager
    monitoring: Monitoring
    secrets: Secrets
    restore: RestoreRequest | None = None
    # The restore's cluster serves the app (a cut-over): it gets a Pooler, base backups and a PodMonitor
    # of its own.
    serve_restore: bool = False
    # A basic-auth Secret with the owner's login (delivered from Lockbox);
    # without one CloudNativePG generates the password into "<cluster>-app".
    owner_secret: str | None = None


class Database(Component):
    pooler_host: pulumi.Output[str]
    pooler_port: pulumi.Output[int]
    app_credentials_secret: pulumi.Output[str]
    bucket: pulumi.Output[str]

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("samokoder:database:Database", name, None, opts)
        self._name = name
        before: list[pulumi.Resource] = [
            args.app_namespace,
            args.cert_manager.release,
            args.monitoring.release,
            *args.secrets.external_secrets,
        ]
        backups = p.backup_plan(args.naming, args.profile)
        bucket, access_key = self._backup_storage(args, backups)
        # The backup writer's static key, as barman-cloud reads it in the database's pods.
        credentials = secret(
            f"{name}-backup-credentials",
            {
                "name": p.BACKUP_CREDENTIALS_SECRET,
                "namespace": args.namespace,
                "labels": args.naming.k8s_labels(p.BACKUP_CREDENTIALS_SECRET, "backup"),
            },
            {
                p.ACCESS_KEY_ID_KEY: access_key.access_key,
                p.SECRET_ACCESS_KEY_KEY: access_key.secret_key.apply(pulumi.Output.secret),
                p.REGION_KEY: p.S3_REGION,
            },
            self.opts(*before),
        )
        home, operator = installation(
            self,
            f"{name}-operator",
            charts.CLOUDNATIVE_PG,
            operators.operator_values(),
            home=DATABASE_OPERATOR_NAMESPACE,
            labels=args.naming.k8s_labels("cloudnative-pg", "database-operator"),
            pod_security="restricted",
        )
        plugin = helm_release(
            f"{name}-backup-plugin",
            charts.BARMAN_CLOUD_PLUGIN,
            DATABASE_OPERATOR_NAMESPACE,
            operators.plugin_values(),
            self.opts(home, operator, *before),
        )
        served, pooler = self._postgres(args, backups, plugin, credentials, before)

        host = f"{p.pooler_name(served)}.{args.namespace}.svc"
        self.pooler_host = pooler.id.apply(lambda _: host)
        self.pooler_port = pulumi.Output.from_input(p.POOLER_PORT)
        credentials_name = args.owner_secret or p.APP_CREDENTIALS_SECRET
        self.app_credentials_secret = pooler.id.apply(lambda _: credentials_name)
        self.bucket = bucket.bucket
        self.outputs("pooler_host", "pooler_port", "app_credentials_secret", "bucket")

    def _postgres(
        self,
        args: DatabaseArgs,
        backups: p.BackupPlan,
        plugin: HelmRelease,
        credentials: KubernetesObject,
        before: Sequence[pulumi.Resource],
    ) -> tuple[str, KubernetesObject]:
        """The ObjectStore, the Cluster archiving to it and what hangs off the Cluster, and a recovery
        cluster when one is requested; returns the cluster that serves the app and its Pooler."""
        name, naming, profile, namespace = self._name, args.naming, args.profile, args.namespace
        store = custom_resource(
            f"{name}-object-store",
            manifests.object_store(naming, namespace, backups),
            self.opts(plugin, credentials, *before),
        )
        postgres = manifests.cluster(
            naming, namespace, profile, backups, args.zones, owner_secret=args.owner_secret
        )
        cluster = custom_resource(
            f"{name}-cluster", postgres, self.opts(store, plugin, *before, protect=args.protect)
        )
        scheduled = manifests.scheduled_backup(naming, namespace, backups)
        custom_resource(f"{name}-scheduled-backup", scheduled, self.opts(cluster))
        pooler = custom_resource(
            f"{name}-pooler", manifests.pooler(naming, namespace, profile), self.opts(cluster)
        )
        custom_resource(f"{name}-pod-monitor", manifests.pod_monitor(naming, namespace), self.opts(cluster))
        if (restore := args.restore) is not None:
            recovery = manifests.recovery_cluster(
                naming,
                namespace,
                profile,
                backups,
                args.zones,
                name=restore.into,
                target_time=restore.target_time,
                owner_secret=args.owner_secret,
            )
            restored = custom_resource(
                f"{name}-restore-{restore.into}", recovery, self.opts(store, plugin, *before)
            )
            if args.serve_restore:
                return restore.into, self._served(args, backups, restore.into, restored)
        return p.CLUSTER, pooler

    def _served(
        self, args: DatabaseArgs, backups: p.BackupPlan, cluster: str, restored: KubernetesObject
    ) -> KubernetesObject:
        """What the running cluster has for serving: a Pooler like its own, daily base backups and a
        PodMonitor, which the database's alerts read (infra/render/monitoring/backups.py).

        Its WAL is archived under its own name from the start (manifests.recovery_cluster); once it
        carries the live data its base backups start too, so that it can be restored in turn. The
        running cluster keeps its own PodMonitor until it is retired: it still archives and takes
        base backups, and it is where a cut-over back returns to, so its state stays in view.
        """
        name, naming, namespace = f"{self._name}-restore-{cluster}", args.naming, args.namespace
        scheduled = manifests.scheduled_backup(naming, namespace, backups, cluster)
        custom_resource(f"{name}-scheduled-backup", scheduled, self.opts(restored))
        monitor = manifests.pod_monitor(naming, namespace, cluster)
        custom_resource(f"{name}-pod-monitor", monitor, self.opts(restored))
        pooler = manifests.pooler(naming, namespace, args.profile, cluster)
        return custom_resource(f"{name}-pooler", pooler, self.opts(restored))

    def _backup_storage(
        self, args: DatabaseArgs, backups: p.BackupPlan
    ) -> tuple[yandex.StorageBucket, yandex.IamServiceAccountStaticAccessKey]:
        spec = BucketSpec(
            resources=f"{self._name}-backup",
            bucket_resource=f"{self._name}-backups",
            bucket=backups.bucket,
            key_name="db-backups",
            component="database",
            key_description="Encrypts the database backups in Object Storage",
            writer="db-backup-writer",
            writer_description="Writes the database's WAL and base backups to its bucket; no folder role",
            access_description="barman-cloud in the database pods",
            # barman-cloud deletes what the retention policy drops; with versioning those objects
            # linger as noncurrent versions this long, recoverable.
            noncurrent_days=NONCURRENT_VERSION_DAYS,
        )
        return encrypted_bucket(self, spec, args.naming, args.folder_id, protect=args.protect)
