"""The Pulumi program: load the stack's settings, then compose the components.

`pulumi up` runs `main()` through `__main__.py`; synth runs the same `main()`
under Pulumi's mock runtime. Settings are validated before any resource is
registered.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_yandex as yandex

from components.cert_manager import CertManager, CertManagerArgs
from components.cluster_redis import ClusterRedis, ClusterRedisArgs
from components.database import Database, DatabaseArgs
from components.dns import Dns, DnsArgs
from components.exporters import Exporters, ExportersArgs
from components.flagger import Flagger, FlaggerArgs
from components.ingress import Ingress, IngressArgs
from components.kube import KubernetesObject
from components.kube import namespace as kube_namespace
from components.kubernetes_cluster import KubernetesCluster, KubernetesClusterArgs
from components.log_collector import LogCollector, LogCollectorArgs
from components.logs import Logs, LogsArgs
from components.monitoring import Monitoring, MonitoringArgs
from components.network import Network, NetworkArgs
from components.registry import Registry, RegistryArgs
from components.secrets import Secrets, SecretsArgs
from components.workloads import ReleaseArgs, Workloads, WorkloadsArgs
from infra.conventions import APP_NAMESPACE, DB_OWNER_SECRET, Naming
from infra.providers.yandex.connection import Connection
from infra.render.monitoring.bundle import MonitoringArtifacts, generate
from infra.render.secrets.catalog import catalog
from infra.render.workloads.canary import CANARY
from infra.render.workloads.manifests import AppSpec
from infra.settings import StackSettings, load_settings
from infra.settings.source import namespace_config


@dataclass(frozen=True)
class Platform:
    """What a run leaves for synth: the settings, and what the monitoring component deployed (as files)."""

    settings: StackSettings
    monitoring_artifacts: MonitoringArtifacts


def main(offline: bool = False) -> Platform:
    """The program. ``offline`` is synth: provided secrets may be absent or unreadable there."""
    settings = load_settings(pulumi.get_stack(), namespace_config(), offline=offline)
    return build(settings, offline=offline)


def build(settings: StackSettings, offline: bool = False) -> Platform:
    """Register the stack's resources, in the order of the steps below, and its outputs."""
    naming = Naming(settings.stack)
    cloud = _cloud(settings, naming)
    platform = _in_cluster_platform(settings, naming, cloud, offline)
    site = _app(settings, naming, cloud, platform)
    _exports(settings, cloud, platform, site)
    return Platform(settings=settings, monitoring_artifacts=platform.artifacts)


@dataclass(frozen=True)
class _Cloud:
    # Options that pin a resource to the stack's cloud and folder; to the cluster; to both.
    in_cloud: pulumi.ResourceOptions
    in_cluster: pulumi.ResourceOptions
    in_both: pulumi.ResourceOptions
    cluster: KubernetesCluster
    registry: Registry
    namespace: KubernetesObject


@dataclass(frozen=True)
class _InCluster:
    monitoring: Monitoring
    artifacts: MonitoringArtifacts
    cert_manager: CertManager
    redis: ClusterRedis
    secrets: Secrets
    database: Database


def _cloud(settings: StackSettings, naming: Naming) -> _Cloud:
    """The cloud provider, the network, the Kubernetes cluster, the registry its nodes pull from, and the
    app's namespace."""
    folder_id = settings.identity.folder_id
    # An explicit provider pins every cloud resource to this stack's cloud and
    # folder; credentials come from the environment (YC_TOKEN or
    # YC_SERVICE_ACCOUNT_KEY_FILE), never from code or config.
    cloud = yandex.Provider(
        "yandex", cloud_id=settings.identity.cloud_id, folder_id=folder_id, zone=settings.network.zones[0]
    )
    in_cloud = pulumi.ResourceOptions(providers={"yandex": cloud})
    lockbox = settings.lockbox
    network = Network(
        "network",
        NetworkArgs(
            naming=naming,
            folder_id=folder_id,
            network=settings.network,
            cluster=settings.cluster,
            # The same Yandex Cloud API auth as the Lockbox provider (samokoder:lockbox).
            connection=Connection(auth=lockbox.auth, key_file=lockbox.key_file, endpoint=lockbox.endpoint),
        ),
        opts=in_cloud,
    )
    cluster = KubernetesCluster(
        "cluster",
        KubernetesClusterArgs(
            naming=naming,
            folder_id=folder_id,
            network=network,
            cluster=settings.cluster,
            nodes=settings.node_group,
            protect=settings.protect_stateful,
        ),
        opts=in_cloud,
    )
    pullers = [cluster.node_service_account_id]
    registry = Registry(
        "registry",
        RegistryArgs(naming=naming, folder_id=folder_id, release=settings.release, pullers=pullers),
        opts=in_cloud,
    )
    namespace = kube_namespace(
        "app-namespace",
        APP_NAMESPACE,
        naming.k8s_labels(APP_NAMESPACE, "namespace"),
        "restricted",
        pulumi.ResourceOptions(provider=cluster.provider),
    )
    return _Cloud(
        in_cloud=in_cloud,
        in_cluster=pulumi.ResourceOptions(providers={"kubernetes": cluster.provider}),
        in_both=pulumi.ResourceOptions(providers={"yandex": cloud, "kubernetes": cluster.provider}),
        cluster=cluster,
        registry=registry,
        namespace=namespace,
    )


def _in_cluster_platform(settings: StackSettings, naming: Naming, cloud: _Cloud, offline: bool) -> _InCluster:
    """What the app stands on: monitoring, cert-manager, Redis, the secrets and the database."""
    namespace, protect = cloud.namespace, settings.protect_stateful
    artifacts = generate(settings)
    monitoring = Monitoring(
        "monitoring",
        MonitoringArgs(
            naming=naming, profile=settings.monitoring, artifacts=artifacts, app_namespace=namespace
        ),
        opts=cloud.in_cluster,
    )
    cert_manager = CertManager("cert-manager", CertManagerArgs(naming=naming), opts=cloud.in_cluster)
    # Redis in the app's namespace: the app connects without a password or TLS (docs/app-contract.md).
    redis = ClusterRedis(
        "redis",
        ClusterRedisArgs(
            naming=naming, profile=settings.workloads.redis, namespace=namespace, protect=protect
        ),
        opts=cloud.in_cluster,
    )
    secrets = Secrets(
        "secrets",
        SecretsArgs(
            naming=naming,
            folder_id=settings.identity.folder_id,
            groups=catalog(settings),
            provided=settings.secrets,
            lockbox=settings.lockbox,
            rotation=settings.rotation,
            rotation_days=settings.secrets_policy.rotation_days,
            protect=protect,
            offline=offline,
            namespaces=[namespace, monitoring.namespace],
        ),
        opts=cloud.in_both,
    )
    database = Database(
        "database",
        DatabaseArgs(
            naming=naming,
            folder_id=settings.identity.folder_id,
            profile=settings.database,
            zones=len(settings.network.zones),
            namespace=APP_NAMESPACE,
            app_namespace=namespace,
            protect=protect,
            cert_manager=cert_manager,
            monitoring=monitoring,
            secrets=secrets,
            restore=settings.restore,
            serve_restore=settings.cut_over is not None,
            owner_secret=DB_OWNER_SECRET,
        ),
        opts=cloud.in_both,
    )
    return _InCluster(monitoring, artifacts, cert_manager, redis, secrets, database)


def _app(settings: StackSettings, naming: Naming, cloud: _Cloud, platform: _InCluster) -> Dns | None:
    """The site's address (when the cluster has a public load balancer), the ingress, Flagger, the app's
    workloads, their exporters and the log collector on every node."""
    site = None
    if settings.cluster.public_ingress:
        identity = settings.identity
        site = Dns(
            "dns",
            DnsArgs(
                naming=naming,
                folder_id=identity.folder_id,
                domain=identity.domain,
                zone=settings.network.zones[0],
                protect=settings.protect_stateful,
            ),
            opts=cloud.in_cloud,
        )
    monitoring, in_cluster = platform.monitoring, cloud.in_cluster
    ingress = Ingress(
        "ingress",
        IngressArgs(
            naming=naming,
            acme_email=settings.workloads.acme_email,
            replicas=min(2, settings.replicas.frontend),
            cert_manager=platform.cert_manager,
            monitoring=monitoring,
            site=site,
        ),
        opts=in_cluster,
    )
    # After ingress-nginx (whose Ingress it copies) and kube-prometheus-stack (PodMonitor, Prometheus).
    flagger = Flagger(
        "flagger", FlaggerArgs(naming=naming, ingress=ingress, monitoring=monitoring), opts=in_cluster
    )
    release = settings.release
    Workloads(
        "workloads",
        WorkloadsArgs(
            naming=naming,
            app=AppSpec.of(settings),
            migration_revision=release.migration_revision,
            images=cloud.registry.images,
            namespace=cloud.namespace,
            database=platform.database,
            ingress=ingress,
            secrets=platform.secrets,
            redis=platform.redis,
            release=ReleaseArgs(
                flagger=flagger, canary=settings.canary, slo=settings.slo, skip_analysis=release.skip_analysis
            ),
        ),
        opts=in_cluster,
    )
    Exporters(
        "exporters",
        ExportersArgs(naming=naming, redis=platform.redis, monitoring=monitoring, secrets=platform.secrets),
        opts=in_cluster,
    )
    Logs(
        "logs",
        LogsArgs(
            naming=naming,
            folder_id=settings.identity.folder_id,
            profile=settings.logs,
            protect=settings.protect_stateful,
            monitoring=monitoring,
        ),
        opts=cloud.in_both,
    )
    LogCollector("log-collector", LogCollectorArgs(naming=naming, monitoring=monitoring), opts=in_cluster)
    return site


def _exports(settings: StackSettings, cloud: _Cloud, platform: _InCluster, site: Dns | None) -> None:
    registry, cluster, database = cloud.registry, cloud.cluster, platform.database
    pulumi.export("release", settings.release.id)
    pulumi.export("migration_revision", settings.release.migration_revision)
    # What the deploy waits on after a `pulumi up` (.github/workflows/deploy-stack.yml): the API's
    # Canary, and the longest Flagger may take to its verdict.
    verdict_timeout = 60 * settings.canary.verdict_minutes()
    pulumi.export(
        "canary", {"namespace": APP_NAMESPACE, "name": CANARY, "verdict_timeout_seconds": verdict_timeout}
    )
    pulumi.export("images", registry.images)
    pulumi.export("registry_id", registry.registry_id)
    pulumi.export("cluster_id", cluster.cluster_id)
    pulumi.export("kubeconfig", cluster.kubeconfig)
    pulumi.export(
        "database",
        {
            "pooler_host": database.pooler_host,
            "pooler_port": database.pooler_port,
            "app_credentials_secret": database.app_credentials_secret,
            "backup_bucket": database.bucket,
        },
    )
    pulumi.export("secret_ages", platform.secrets.ages)
    if site is not None:
        # Where the domain is delegated (its NS records at the registrar or the parent zone)
        # and the address it resolves to.
        site_output = {
            "domain": settings.identity.domain,
            "address": site.address,
            "name_servers": list(site.name_servers),
        }
        pulumi.export("site", site_output)
