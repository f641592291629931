"""CloudNativePG objects per profile: CRD-valid, spread by zone, Guaranteed QoS, WAL archived by plugin."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from infra.conventions import Naming
from infra.render.database import manifests
from infra.render.database import plan as p
from infra.settings.database import DatabaseProfile
from tests.crd_schemas import crd_problems

NAMING = Naming("unit")
NAMESPACE = "samokoder"
OWNER_SECRET = "samokoder-db-owner"  # pragma: allowlist secret (a Secret's name)
BASE: dict[str, Any] = {
    "instances": 3,
    "storage_gb": 100,
    "storage_class": "yc-network-ssd",
    "cpu_cores": 2,
    "memory_gb": 4,
    "backup_retention_days": 30,
    "backup_time_utc": "00:00",
    "archive_timeout_seconds": 120,
    "pooler_instances": 2,
    "drill_period_days": 31,
}


def profile(**changes: Any) -> DatabaseProfile:
    return DatabaseProfile.model_validate({**BASE, **changes})


PROFILES = {
    "one instance": profile(instances=1, storage_class="yc-network-hdd", cpu_cores=0.5, memory_gb=1),
    "three instances": profile(),
}


def cluster(prof: DatabaseProfile, zones: int = 3, owner_secret: str | None = OWNER_SECRET) -> dict[str, Any]:
    return manifests.cluster(
        NAMING, NAMESPACE, prof, p.backup_plan(NAMING, prof), zones, owner_secret=owner_secret
    )


def rebuilt(
    prof: DatabaseProfile, source: str = p.CLUSTER, into: str = "samokoder-db-2", target_time: Any = None
) -> DatabaseProfile:
    """The profile of a stack rebuilt from the archive ``source``, archiving under ``into`` from then on."""
    origin = {"server_name": source, "target_time": target_time}
    return DatabaseProfile.model_validate({**prof.model_dump(), "server_name": into, "recover_from": origin})


def recovery(
    prof: DatabaseProfile, target_time: datetime | None = None, name: str = "drill"
) -> dict[str, Any]:
    return manifests.recovery_cluster(
        NAMING, NAMESPACE, prof, p.backup_plan(NAMING, prof), 3, name=name, target_time=target_time
    )


Render = Callable[[DatabaseProfile], dict[str, Any]]
OBJECTS: dict[str, Render] = {
    "object store": lambda prof: manifests.object_store(NAMING, NAMESPACE, p.backup_plan(NAMING, prof)),
    "cluster with owner secret": cluster,
    "cluster with generated owner": lambda prof: cluster(prof, owner_secret=None),
    "scheduled backup": lambda prof: manifests.scheduled_backup(
        NAMING, NAMESPACE, p.backup_plan(NAMING, prof)
    ),
    "pooler": lambda prof: manifests.pooler(NAMING, NAMESPACE, prof),
    "pod monitor": lambda prof: manifests.pod_monitor(NAMING, NAMESPACE),
    "rebuilt cluster": lambda prof: cluster(rebuilt(prof)),
    "rebuilt cluster to a time": lambda prof: cluster(
        rebuilt(prof, target_time=datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    ),
    "recovery to the latest point": recovery,
    "recovery to a time": lambda prof: recovery(prof, datetime(2026, 11, 26, 10, 0, tzinfo=UTC)),
}


@pytest.mark.parametrize("prof", PROFILES.values(), ids=PROFILES.keys())
@pytest.mark.parametrize("render", OBJECTS.values(), ids=OBJECTS.keys())
def test_every_object_validates_against_its_crd(render: Render, prof: DatabaseProfile) -> None:
    document = render(prof)
    assert crd_problems(document) == []
    assert document["metadata"]["labels"]["app.kubernetes.io/part-of"] == "samokoder"
    assert document["metadata"]["namespace"] == NAMESPACE


@pytest.mark.parametrize("instances", [1, 3, 5])
def test_the_cluster_runs_the_profiles_instances(instances: int) -> None:
    assert cluster(profile(instances=instances))["spec"]["instances"] == instances


@pytest.mark.parametrize(
    ("instances", "zones", "kind"),
    [(1, 1, "required"), (2, 3, "required"), (3, 3, "required"), (3, 1, "preferred"), (5, 3, "preferred")],
)
def test_instances_keep_apart_by_zone_strictly_only_where_there_are_zones_enough(
    instances: int, zones: int, kind: str
) -> None:
    affinity = cluster(profile(instances=instances), zones=zones)["spec"]["affinity"]
    assert affinity["enablePodAntiAffinity"] is True
    assert affinity["topologyKey"] == "topology.kubernetes.io/zone"
    # Required with too few zones would leave instances unscheduled for good.
    assert affinity["podAntiAffinityType"] == kind


@pytest.mark.parametrize(
    ("cpu_cores", "memory_gb", "cpu", "memory"),
    [(0.5, 1, "500m", "1024Mi"), (2, 4, "2000m", "4096Mi"), (1.5, 0.75, "1500m", "768Mi")],
)
def test_requests_equal_limits_so_postgres_gets_guaranteed_qos(
    cpu_cores: float, memory_gb: float, cpu: str, memory: str
) -> None:
    resources = cluster(profile(cpu_cores=cpu_cores, memory_gb=memory_gb))["spec"]["resources"]
    assert resources["requests"] == resources["limits"] == {"cpu": cpu, "memory": memory}


def test_storage_follows_the_profile() -> None:
    storage = cluster(profile(storage_gb=250, storage_class="yc-network-hdd"))["spec"]["storage"]
    assert storage == {"size": "250Gi", "storageClass": "yc-network-hdd"}


def test_wal_is_archived_through_the_plugin_into_the_object_store_the_stack_defines() -> None:
    prof = profile()
    store = manifests.object_store(NAMING, NAMESPACE, p.backup_plan(NAMING, prof))
    spec = cluster(prof)["spec"]
    (plugin,) = spec["plugins"]
    assert plugin["name"] == p.BARMAN_PLUGIN
    assert plugin["isWALArchiver"] is True
    assert plugin["parameters"]["barmanObjectName"] == store["metadata"]["name"]
    # The in-operator barmanObjectStore (deprecated) is not used beside it.
    assert "backup" not in spec


@pytest.mark.parametrize("seconds", [30, 120, 300])
def test_a_partly_filled_wal_segment_is_archived_after_the_profiles_timeout(seconds: int) -> None:
    parameters = cluster(profile(archive_timeout_seconds=seconds))["spec"]["postgresql"]["parameters"]
    assert parameters["archive_timeout"] == f"{seconds}s"


@pytest.mark.parametrize("days", [7, 30, 365])
def test_the_object_store_keeps_backups_for_the_profiles_retention(days: int) -> None:
    backups = p.backup_plan(NAMING, profile(backup_retention_days=days))
    store = manifests.object_store(NAMING, NAMESPACE, backups)
    assert store["spec"]["retentionPolicy"] == f"{days}d"
    assert store["spec"]["configuration"]["destinationPath"] == "s3://samokoder-unit-db-backups/postgres"


def test_with_an_owner_secret_the_owner_logs_in_with_it_and_a_declared_role_follows_it() -> None:
    spec = cluster(profile(), owner_secret=OWNER_SECRET)["spec"]
    initdb = spec["bootstrap"]["initdb"]
    assert initdb["secret"] == {"name": OWNER_SECRET}
    (role,) = spec["managed"]["roles"]
    assert role["name"] == initdb["owner"]
    assert role["passwordSecret"] == {"name": OWNER_SECRET}
    assert (role["ensure"], role["login"]) == ("present", True)


def test_without_an_owner_secret_cloudnativepg_generates_the_owners_password() -> None:
    spec = cluster(profile(), owner_secret=None)["spec"]
    assert "secret" not in spec["bootstrap"]["initdb"]
    assert "managed" not in spec
    assert spec["bootstrap"]["initdb"] == {"database": p.DATABASE, "owner": p.OWNER}


def test_the_daily_backup_is_of_this_cluster_through_the_same_plugin() -> None:
    prof = profile()
    running = cluster(prof)
    backup = manifests.scheduled_backup(NAMING, NAMESPACE, p.backup_plan(NAMING, prof))["spec"]
    assert backup["cluster"] == {"name": running["metadata"]["name"]}
    assert backup["method"] == "plugin"
    assert backup["pluginConfiguration"]["name"] == running["spec"]["plugins"][0]["name"]
    # A first backup right away: a new cluster is not left without one until the schedule comes round.
    assert backup["immediate"] is True


@pytest.mark.parametrize("pooler_instances", [1, 2, 4])
def test_the_pooler_fronts_the_primary_of_this_cluster_under_the_name_the_app_connects_to(
    pooler_instances: int,
) -> None:
    pooler = manifests.pooler(NAMING, NAMESPACE, profile(pooler_instances=pooler_instances))
    assert pooler["metadata"]["name"] == p.POOLER
    spec = pooler["spec"]
    assert spec["cluster"] == {"name": cluster(profile())["metadata"]["name"]}
    assert (spec["type"], spec["instances"]) == ("rw", pooler_instances)
    bouncer = spec["pgbouncer"]
    assert bouncer["poolMode"] == "transaction"
    parameters = bouncer["parameters"]
    assert int(parameters["default_pool_size"]) <= int(parameters["max_client_conn"])
    # asyncpg prepares statements: transaction pooling needs them tracked.
    assert int(parameters["max_prepared_statements"]) > 0


def test_the_pod_monitor_scrapes_the_instances_of_this_cluster() -> None:
    monitor = manifests.pod_monitor(NAMING, NAMESPACE)["spec"]
    assert monitor["selector"]["matchLabels"] == {
        "cnpg.io/cluster": cluster(profile())["metadata"]["name"],
        "cnpg.io/podRole": "instance",
    }
    (endpoint,) = monitor["podMetricsEndpoints"]
    assert endpoint["port"] == manifests.METRICS_PORT


def test_a_recovery_cluster_cannot_take_the_running_clusters_name() -> None:
    with pytest.raises(ValueError, match="running cluster"):
        recovery(profile(), name=p.CLUSTER)


def test_a_recovery_cluster_reads_the_running_clusters_archive_and_writes_its_own() -> None:
    spec = recovery(profile(), name="samokoder-db-drill")["spec"]
    (origin,) = spec["externalClusters"]
    assert spec["bootstrap"]["recovery"]["source"] == origin["name"]
    assert origin["plugin"]["parameters"] == {"barmanObjectName": p.OBJECT_STORE, "serverName": p.CLUSTER}
    (archiver,) = spec["plugins"]
    assert archiver["parameters"]["serverName"] == "samokoder-db-drill"
    assert archiver["parameters"]["serverName"] != origin["plugin"]["parameters"]["serverName"]


@pytest.mark.parametrize(
    "target", [None, datetime(2026, 11, 26, 10, 0, tzinfo=UTC)], ids=["latest point", "point in time"]
)
def test_a_recovery_cluster_stops_at_the_target_time_if_one_is_given(target: datetime | None) -> None:
    bootstrap = recovery(profile(), target_time=target)["spec"]["bootstrap"]["recovery"]
    if target is None:
        assert "recoveryTarget" not in bootstrap
    else:
        assert datetime.fromisoformat(bootstrap["recoveryTarget"]["targetTime"]) == target
    assert (bootstrap["database"], bootstrap["owner"]) == (p.DATABASE, p.OWNER)


@pytest.mark.parametrize("prof", PROFILES.values(), ids=PROFILES.keys())
def test_a_recovery_cluster_has_the_running_clusters_shape(prof: DatabaseProfile) -> None:
    running, restored = cluster(prof)["spec"], recovery(prof)["spec"]
    for field in ("instances", "imageName", "storage", "resources", "affinity", "postgresql"):
        assert restored[field] == running[field], field


def test_the_backup_sidecar_sends_only_the_checksums_object_storage_accepts() -> None:
    store = manifests.object_store(NAMING, NAMESPACE, p.backup_plan(NAMING, next(iter(PROFILES.values()))))
    env = {e["name"]: e["value"] for e in store["spec"]["instanceSidecarConfiguration"]["env"]}
    # boto3 1.36+ defaults to CRC checksums that S3-compatible stores such as Yandex's reject.
    assert env == {
        "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
        "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
    }
    assert not crd_problems(store)


def test_by_default_the_cluster_starts_empty_and_archives_under_its_own_name() -> None:
    spec = cluster(profile())["spec"]
    assert list(spec["bootstrap"]) == ["initdb"]
    assert "externalClusters" not in spec
    # No serverName: the plugin's default, the cluster's name (config.go:148-155).
    (archiver,) = spec["plugins"]
    assert archiver["parameters"] == {"barmanObjectName": p.OBJECT_STORE}


@pytest.mark.parametrize("source", [p.CLUSTER, "samokoder-db-2"], ids=["first rebuild", "second rebuild"])
def test_a_rebuilt_cluster_recovers_the_old_archive_and_archives_under_its_new_name(source: str) -> None:
    manifest = cluster(rebuilt(profile(), source=source, into="samokoder-db-3"))
    spec = manifest["spec"]
    assert manifest["metadata"]["name"] == p.CLUSTER
    assert list(spec["bootstrap"]) == ["recovery"]
    (origin,) = spec["externalClusters"]
    assert spec["bootstrap"]["recovery"]["source"] == origin["name"]
    assert origin["plugin"] == {
        "name": p.BARMAN_PLUGIN,
        "parameters": {"barmanObjectName": p.OBJECT_STORE, "serverName": source},
    }
    (archiver,) = spec["plugins"]
    assert archiver["isWALArchiver"] is True
    assert archiver["parameters"] == {"barmanObjectName": p.OBJECT_STORE, "serverName": "samokoder-db-3"}


def test_a_rebuilt_cluster_keeps_the_owner_the_app_logs_in_as() -> None:
    spec = cluster(rebuilt(profile()))["spec"]
    recovered = spec["bootstrap"]["recovery"]
    assert (recovered["database"], recovered["owner"]) == (p.DATABASE, p.OWNER)
    # The old roles' passwords come back with the data; the delivered one is set over them.
    assert recovered["secret"] == {"name": OWNER_SECRET}
    assert spec["managed"] == cluster(profile())["spec"]["managed"]
    assert "secret" not in cluster(rebuilt(profile()), owner_secret=None)["spec"]["bootstrap"]["recovery"]


def test_a_rebuilt_cluster_differs_from_a_new_one_only_in_how_it_starts_and_where_it_archives() -> None:
    new, rebuild = cluster(profile())["spec"], cluster(rebuilt(profile()))["spec"]
    changed = {key for key in new.keys() | rebuild.keys() if new.get(key) != rebuild.get(key)}
    assert changed == {"bootstrap", "externalClusters", "plugins"}


def test_a_rebuilt_cluster_stops_at_its_target_time() -> None:
    target = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    recovered = cluster(rebuilt(profile(), target_time=target))["spec"]["bootstrap"]["recovery"]
    assert datetime.fromisoformat(recovered["recoveryTarget"]["targetTime"]) == target
    assert "recoveryTarget" not in cluster(rebuilt(profile()))["spec"]["bootstrap"]["recovery"]


def test_after_a_rebuild_a_restore_reads_the_archive_the_cluster_writes_now() -> None:
    spec = recovery(rebuilt(profile(), into="samokoder-db-2"), name="drill")["spec"]
    (origin,) = spec["externalClusters"]
    assert origin["plugin"]["parameters"]["serverName"] == "samokoder-db-2"
    (archiver,) = spec["plugins"]
    assert archiver["parameters"]["serverName"] == "drill"


def test_a_rebuild_takes_one_base_backup_before_the_migration_not_two() -> None:
    """The migration Job waits (55 min) for its pre-migration Backup, which CloudNativePG starts only
    after any older one: a rebuild's schedule must not add an immediate full backup ahead of it."""
    new = manifests.scheduled_backup(NAMING, NAMESPACE, p.backup_plan(NAMING, profile()))["spec"]
    rebuilt_plan = p.backup_plan(NAMING, rebuilt(profile()))
    after_rebuild = manifests.scheduled_backup(NAMING, NAMESPACE, rebuilt_plan)["spec"]
    assert (new["immediate"], after_rebuild["immediate"]) == (True, False)
    assert {k: v for k, v in new.items() if k != "immediate"} == {
        k: v for k, v in after_rebuild.items() if k != "immediate"
    }
