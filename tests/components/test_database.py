"""Database under Pulumi mocks: the backup bucket, its writer's reach, the cluster's shape per stack."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from infra.conventions import DB_OWNER_SECRET
from infra.ops.synth.mocks import RecordedResource
from infra.ops.synth.runner import Synthesis, synthesize
from infra.render.database import plan
from infra.settings import loader
from infra.settings.loader import read_profile
from tests.conftest import STACKS, stack_file_values, write_project
from tests.crd_schemas import crd_problems

Synth = Callable[[str], Synthesis]
BUCKET = "yandex:index/storageBucket:StorageBucket"
KEY = "yandex:index/kmsSymmetricKey:KmsSymmetricKey"
CLUSTER = "kubernetes:postgresql.cnpg.io/v1:Cluster"
OBJECT_STORE = "kubernetes:barmancloud.cnpg.io/v1:ObjectStore"
CNPG_KINDS = (
    CLUSTER,
    OBJECT_STORE,
    "kubernetes:postgresql.cnpg.io/v1:ScheduledBackup",
    "kubernetes:postgresql.cnpg.io/v1:Pooler",
    "kubernetes:monitoring.coreos.com/v1:PodMonitor",
)


def bucket(synthesis: Synthesis) -> RecordedResource:
    return synthesis.one(BUCKET, "database-backups")


def backup_key(synthesis: Synthesis) -> RecordedResource:
    return synthesis.one(KEY, "database-backup-key")


def writer(synthesis: Synthesis) -> RecordedResource:
    return synthesis.one("yandex:index/iamServiceAccount:IamServiceAccount", "database-backup-writer")


def manifest(resource: RecordedResource) -> dict[str, Any]:
    inputs = dict(resource.inputs)
    inputs.pop("metadata")
    return {**inputs, "metadata": resource.inputs["metadata"]}


@pytest.mark.parametrize("stack", STACKS)
def test_the_backup_bucket_is_private_versioned_and_encrypted_with_its_own_key(
    synthesized: Synth, stack: str
) -> None:
    synthesis = synthesized(stack)
    inputs = bucket(synthesis).inputs
    assert inputs["bucket"] == f"samokoder-{stack}-db-backups"
    # No predefined ACL opens it and no grant names a group (AllUsers, AuthenticatedUsers).
    assert inputs.get("acl") in (None, "private"), inputs
    assert all(grant["type"] == "CanonicalUser" for grant in inputs["grants"]), inputs["grants"]
    assert inputs["versioning"] == {"enabled": True}
    default = inputs["serverSideEncryptionConfiguration"]["rule"]["applyServerSideEncryptionByDefault"]
    assert default == {"kmsMasterKeyId": synthesis.id_of(backup_key(synthesis)), "sseAlgorithm": "aws:kms"}
    # The backups have their own key, not the cluster's secrets key.
    assert backup_key(synthesis).name != "cluster-secrets"


@pytest.mark.parametrize("stack", STACKS)
def test_lifecycle_rules_expire_noncurrent_versions_and_abort_stale_uploads(
    synthesized: Synth, stack: str
) -> None:
    rules = bucket(synthesized(stack)).inputs["lifecycleRules"]
    assert all(rule["enabled"] for rule in rules), rules
    assert any(rule.get("noncurrentVersionExpiration", {}).get("days", 0) > 0 for rule in rules), rules
    assert any(rule.get("abortIncompleteMultipartUploadDays", 0) > 0 for rule in rules), rules


@pytest.mark.parametrize("stack", STACKS)
def test_the_backup_writer_reaches_only_its_bucket_and_key(synthesized: Synth, stack: str) -> None:
    synthesis = synthesized(stack)
    writer_id = synthesis.id_of(writer(synthesis))
    member = f"serviceAccount:{writer_id}"

    def mentions_writer(resource: RecordedResource) -> bool:
        return writer_id in repr(resource.inputs) and resource is not writer(synthesis)

    reach = {(r.type, r.name) for r in synthesis.deployed() if mentions_writer(r)}
    assert reach == {
        (BUCKET, "database-backups"),
        ("yandex:index/kmsSymmetricKeyIamBinding:KmsSymmetricKeyIamBinding", "database-backup-key-use"),
        (
            "yandex:index/iamServiceAccountStaticAccessKey:IamServiceAccountStaticAccessKey",
            "database-backup-access-key",
        ),
    }
    grants = bucket(synthesis).inputs["grants"]
    assert grants == [{"type": "CanonicalUser", "id": writer_id, "permissions": ["READ", "WRITE"]}]
    binding = synthesis.one(
        "yandex:index/kmsSymmetricKeyIamBinding:KmsSymmetricKeyIamBinding", "database-backup-key-use"
    )
    assert binding.inputs["symmetricKeyId"] == synthesis.id_of(backup_key(synthesis))
    assert binding.inputs["members"] == [member]
    # No folder-wide role: that would reach every bucket in the folder.
    folder_members = [
        r.inputs["member"]
        for r in synthesis.of_type(
            "yandex:index/resourcemanagerFolderIamMember:ResourcemanagerFolderIamMember"
        )
    ]
    assert member not in folder_members


@pytest.mark.parametrize("stack", STACKS)
def test_the_static_key_reaches_the_cluster_only_as_a_secret(synthesized: Synth, stack: str) -> None:
    synthesis = synthesized(stack)
    (secret,) = (
        r
        for r in synthesis.of_type("kubernetes:core/v1:Secret")
        if r.inputs["metadata"]["name"] == plan.BACKUP_CREDENTIALS_SECRET
    )
    assert secret.inputs["stringData"] == {
        plan.ACCESS_KEY_ID_KEY: "[secret]",
        plan.SECRET_ACCESS_KEY_KEY: "[secret]",
        plan.REGION_KEY: "[secret]",
    }
    store = manifest(synthesis.of_type(OBJECT_STORE)[0])
    refs = store["spec"]["configuration"]["s3Credentials"]
    assert {ref["name"] for ref in refs.values()} == {plan.BACKUP_CREDENTIALS_SECRET}
    assert {ref["key"] for ref in refs.values()} == set(secret.inputs["stringData"])


@pytest.mark.parametrize("stack", STACKS)
def test_every_database_custom_resource_validates_against_its_crd(synthesized: Synth, stack: str) -> None:
    synthesis = synthesized(stack)
    for kind in CNPG_KINDS:
        (resource,) = synthesis.of_type(kind)
        assert crd_problems(manifest(resource)) == [], resource.urn


@pytest.mark.parametrize(
    ("stack", "instances", "retention", "required_spread"), [("staging", 1, 7, True), ("prod", 3, 30, True)]
)
def test_instances_retention_and_zone_spread_follow_the_profile(
    synthesized: Synth, stack: str, instances: int, retention: int, required_spread: bool
) -> None:
    synthesis = synthesized(stack)
    spec = manifest(synthesis.of_type(CLUSTER)[0])["spec"]
    assert spec["instances"] == instances
    assert spec["affinity"]["topologyKey"] == "topology.kubernetes.io/zone"
    assert (spec["affinity"]["podAntiAffinityType"] == "required") is required_spread
    store = manifest(synthesis.of_type(OBJECT_STORE)[0])["spec"]
    assert store["retentionPolicy"] == f"{retention}d"
    assert store["configuration"]["destinationPath"] == f"s3://samokoder-{stack}-db-backups/postgres"
    assert store["configuration"]["endpointURL"] == "https://storage.yandexcloud.net"
    assert store["configuration"]["wal"]["compression"]


@pytest.mark.parametrize("stack", STACKS)
def test_wal_goes_through_the_plugin_within_five_minutes(synthesized: Synth, stack: str) -> None:
    spec = manifest(synthesized(stack).of_type(CLUSTER)[0])["spec"]
    assert spec["plugins"] == [
        {
            "name": plan.BARMAN_PLUGIN,
            "isWALArchiver": True,
            "parameters": {"barmanObjectName": plan.OBJECT_STORE},
        }
    ]
    timeout = spec["postgresql"]["parameters"]["archive_timeout"]
    assert timeout.endswith("s")
    assert 0 < int(timeout.removesuffix("s")) <= 300
    # The deprecated in-operator object store is not used.
    assert "backup" not in spec


@pytest.mark.parametrize("stack", STACKS)
def test_base_backups_are_daily_and_go_through_the_plugin(synthesized: Synth, stack: str) -> None:
    (scheduled,) = synthesized(stack).of_type("kubernetes:postgresql.cnpg.io/v1:ScheduledBackup")
    spec = scheduled.inputs["spec"]
    seconds, minutes, hours, *days = spec["schedule"].split()
    # Every day, at one fixed time.
    assert days == ["*", "*", "*"], spec
    assert (seconds, minutes.isdigit(), hours.isdigit()) == ("0", True, True), spec
    assert spec["method"] == "plugin"
    assert spec["pluginConfiguration"] == {"name": plan.BARMAN_PLUGIN}


@pytest.mark.parametrize(("stack", "protected"), [("prod", True), ("staging", False)])
def test_prod_protects_the_bucket_its_key_and_the_database_cluster(
    synthesized: Synth, stack: str, protected: bool
) -> None:
    synthesis = synthesized(stack)
    for resource in (bucket(synthesis), backup_key(synthesis), synthesis.of_type(CLUSTER)[0]):
        assert resource.protect is protected, resource.urn


@pytest.mark.parametrize("stack", STACKS)
def test_the_app_gets_the_pooler_address_and_its_credentials_secret(synthesized: Synth, stack: str) -> None:
    outputs = synthesized(stack).outputs["database"]
    assert outputs["pooler_host"] == f"{plan.POOLER}.samokoder.svc"
    assert outputs["pooler_port"] == 5432
    # The owner's login comes from Lockbox through External Secrets.
    assert outputs["app_credentials_secret"] == "samokoder-db-owner"  # pragma: allowlist secret
    (pooler,) = synthesized(stack).of_type("kubernetes:postgresql.cnpg.io/v1:Pooler")
    assert pooler.inputs["metadata"]["name"] == plan.POOLER
    assert pooler.inputs["spec"]["cluster"] == {"name": plan.CLUSTER}


def test_operators_and_plugin_charts_are_pinned_and_the_plugin_waits_for_them(synthesized: Synth) -> None:
    synthesis = synthesized("prod")
    releases = {r.inputs["chart"]: r for r in synthesis.of_type("kubernetes:helm.sh/v3:Release")}
    assert {"cloudnative-pg", "plugin-barman-cloud", "cert-manager"} <= set(releases)
    plugin = releases["plugin-barman-cloud"]
    assert plugin.inputs["namespace"] == releases["cloudnative-pg"].inputs["namespace"]
    assert {releases["cloudnative-pg"].urn, releases["cert-manager"].urn} <= set(plugin.dependencies)


def test_a_restore_request_adds_a_recovery_cluster_beside_the_running_one(tmp_path: Any) -> None:
    config = stack_file_values("staging")
    config["restore"] = {"into": "samokoder-db-drill", "target_time": "2026-11-26T10:00:00+03:00"}
    synthesis = synthesize("staging", write_project(tmp_path, "staging", config))
    clusters = {r.inputs["metadata"]["name"]: manifest(r) for r in synthesis.of_type(CLUSTER)}
    assert set(clusters) == {plan.CLUSTER, "samokoder-db-drill"}
    restored = clusters["samokoder-db-drill"]
    assert crd_problems(restored) == []
    recovery = restored["spec"]["bootstrap"]["recovery"]
    assert recovery["recoveryTarget"] == {"targetTime": "2026-11-26T10:00:00+03:00"}
    (origin,) = restored["spec"]["externalClusters"]
    assert origin["name"] == recovery["source"]
    assert origin["plugin"]["parameters"]["serverName"] == plan.CLUSTER
    # It archives under its own name: the source's backups are never written to.
    assert restored["spec"]["plugins"][0]["parameters"]["serverName"] == "samokoder-db-drill"
    # The running cluster is unchanged by the request.
    assert clusters[plan.CLUSTER] == manifest(
        next(
            r
            for r in synthesize(
                "staging", write_project(tmp_path / "plain", "staging", stack_file_values("staging"))
            ).of_type(CLUSTER)
        )
    )


def test_a_rebuilt_stack_recovers_its_cluster_after_the_owners_secret_is_delivered(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = read_profile("staging")
    profile["database"] |= {"server_name": "samokoder-db-2", "recover_from": {"server_name": plan.CLUSTER}}
    monkeypatch.setattr(loader, "read_profile", lambda stack: profile)
    synthesis = synthesize("staging", write_project(tmp_path, "staging", stack_file_values("staging")))
    (cluster,) = synthesis.of_type(CLUSTER)
    spec = manifest(cluster)["spec"]
    assert spec["bootstrap"]["recovery"]["secret"] == {"name": DB_OWNER_SECRET}
    assert spec["externalClusters"][0]["plugin"]["parameters"]["serverName"] == plan.CLUSTER
    assert spec["plugins"][0]["parameters"]["serverName"] == "samokoder-db-2"
    # Its first base backup is the migration's, not an immediate one queued ahead of it.
    (scheduled,) = synthesis.of_type("kubernetes:postgresql.cnpg.io/v1:ScheduledBackup")
    assert scheduled.inputs["spec"]["immediate"] is False
    # The recovery sets the owner's password from the delivered Secret: its ExternalSecret comes first.
    (owner,) = (
        r
        for r in synthesis.of_type("kubernetes:external-secrets.io/v1:ExternalSecret")
        if r.inputs["metadata"]["name"] == DB_OWNER_SECRET
    )
    assert owner.urn in cluster.dependencies


def _kinds(synthesis: Synthesis, kind: str) -> dict[str, dict[str, Any]]:
    return {r.inputs["metadata"]["name"]: manifest(r) for r in synthesis.of_type(f"kubernetes:{kind}")}


def test_a_cut_over_serves_the_app_from_the_restored_cluster_and_back(tmp_path: Any) -> None:
    """With samokoder:cut_over the restored cluster gets a Pooler, daily base backups and a PodMonitor,
    the app's DATABASE_HOST names that Pooler, the app's policies reach it and the next migration's
    backup is its; without, all is as before (the restored cluster stays, the app back on the running
    one)."""
    from infra.render.secrets.catalog import catalog  # noqa: PLC0415

    restored = "samokoder-db-restore-20261126-0630"
    base = {**stack_file_values("staging"), "restore": {"into": restored}}
    cut = synthesize(
        "staging", write_project(tmp_path / "cut", "staging", {**base, "cut_over": {"to": restored}})
    )
    back = synthesize("staging", write_project(tmp_path / "back", "staging", base))
    poolers, scheduled = (
        _kinds(cut, "postgresql.cnpg.io/v1:Pooler"),
        _kinds(cut, "postgresql.cnpg.io/v1:ScheduledBackup"),
    )
    pooler = poolers[f"{restored}-pooler-rw"]
    assert pooler["spec"]["cluster"] == {"name": restored}
    assert pooler["spec"]["type"] == "rw"
    assert scheduled[f"{restored}-daily"]["spec"]["cluster"] == {"name": restored}
    for made in (pooler, scheduled[f"{restored}-daily"]):
        assert crd_problems(made) == []
    assert set(_kinds(back, "postgresql.cnpg.io/v1:Pooler")) == {plan.POOLER}
    assert set(_kinds(back, "postgresql.cnpg.io/v1:ScheduledBackup")) == {f"{plan.CLUSTER}-daily"}
    # Both clusters scraped after a cut-over (the running one until it is retired), one without.
    monitors = _kinds(cut, "monitoring.coreos.com/v1:PodMonitor")
    assert set(monitors) == {plan.CLUSTER, restored}
    assert monitors[restored]["spec"]["selector"]["matchLabels"]["cnpg.io/cluster"] == restored
    assert crd_problems(monitors[restored]) == []
    assert set(_kinds(back, "monitoring.coreos.com/v1:PodMonitor")) == {plan.CLUSTER}
    # Either way the restored cluster takes the app's login from the owner's Secret.
    for synthesis in (cut, back):
        recovery = _kinds(synthesis, "postgresql.cnpg.io/v1:Cluster")[restored]
        assert recovery["spec"]["bootstrap"]["recovery"]["secret"] == {"name": "samokoder-db-owner"}
        assert recovery["spec"]["managed"]["roles"][0]["passwordSecret"] == {"name": "samokoder-db-owner"}

    def host(synthesis: Synthesis) -> str:
        (app,) = (g for g in catalog(synthesis.settings) if g.group == "app")
        return next(e.origin for e in app.entries if e.key == "DATABASE_HOST")

    assert host(cut) == f"{restored}-pooler-rw.samokoder.svc"
    assert host(back) == f"{plan.POOLER}.samokoder.svc"
    assert cut.outputs["database"]["pooler_host"] == host(cut)

    def worker_reaches(synthesis: Synthesis) -> list[Any]:
        policy = _kinds(synthesis, "networking.k8s.io/v1:NetworkPolicy")["worker"]
        return [
            peer["podSelector"]
            for rule in policy["spec"]["egress"]
            for peer in rule["to"]
            if "podSelector" in peer
        ]

    assert {"matchLabels": {"cnpg.io/poolerName": f"{restored}-pooler-rw"}} in worker_reaches(cut)
    assert {"matchLabels": {"cnpg.io/poolerName": plan.POOLER}} not in worker_reaches(cut)
    assert {"matchLabels": {"cnpg.io/poolerName": plan.POOLER}} in worker_reaches(back)
    (backup,) = _kinds(cut, "postgresql.cnpg.io/v1:Backup").values()
    assert backup["spec"]["cluster"] == {"name": restored}


def test_the_cut_over_guard_knows_the_restored_cluster_s_objects_by_their_urns(tmp_path: Any) -> None:
    """The preview guard of `cut-over` (infra/ops/automation/cutover.py) lets through the restored
    cluster's Pooler, ScheduledBackup and PodMonitor as the program names them, and not the running
    cluster's; and every resource a cut-over changes, as synth sees the stack before and after."""
    from infra.ops.automation.cutover import RESTORED_OBJECTS, unexpected  # noqa: PLC0415
    from infra.ops.automation.stack import Step  # noqa: PLC0415

    restored = "samokoder-db-restore-20261126-0630"
    before = {**stack_file_values("staging"), "restore": {"into": restored}}
    cut = synthesize(
        "staging", write_project(tmp_path / "cut", "staging", {**before, "cut_over": {"to": restored}})
    )
    made = {
        (r.type, r.inputs["metadata"]["name"]): Step("create", r.type, r.urn)
        for kind in RESTORED_OBJECTS
        for r in cut.of_type(kind)
    }
    names = {name for _, name in made}
    assert names == {plan.POOLER, f"{plan.CLUSTER}-daily", plan.CLUSTER}.union(
        {f"{restored}-pooler-rw", f"{restored}-daily", restored}
    )
    theirs = [step for (_, name), step in made.items() if name.startswith(restored)]
    running = [step for (_, name), step in made.items() if not name.startswith(restored)]
    assert len(theirs) == len(running) == len(RESTORED_OBJECTS)
    assert unexpected(theirs, restored) == []
    assert unexpected(running, restored) == running
    # What differs between the stack with its restored cluster and the same cut over to it.
    back = synthesize("staging", write_project(tmp_path / "back", "staging", before))
    old, new = ({r.urn: r for r in s.deployed()} for s in (back, cut))

    def watched(inputs: dict[str, Any], ignored: tuple[str, ...]) -> dict[str, Any]:
        # What an update compares: a release's pre-migration Backup ignores its spec, say.
        return {key: value for key, value in inputs.items() if key not in ignored}

    steps = [Step("create", new[u].type, u) for u in new.keys() - old.keys()]
    steps += [
        Step("update", new[u].type, u)
        for u in new.keys() & old.keys()
        if watched(new[u].inputs, new[u].ignore_changes) != watched(old[u].inputs, old[u].ignore_changes)
    ]
    assert {step.urn.rsplit("::", 1)[1] for step in steps if step.op == "update"} >= {
        "monitoring-rules-database",
        "monitoring-dashboard-samokoder-database",
        "monitoring-dashboard-samokoder-golden-signals",
    }
    assert unexpected(steps, restored) == []
