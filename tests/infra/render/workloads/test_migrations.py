"""Migrations: a Backup and a Job per revision, the Job after its Backup, an account that reads Backups."""

from __future__ import annotations

import re
from typing import Any

import kubernetes_validate
import pytest

from infra.conventions import APP_NAMESPACE, DATABASE_CLUSTER, Naming
from infra.render.database import manifests as db_manifests
from infra.render.database import plan as db
from infra.render.workloads import migrations
from infra.render.workloads.network_policies import network_policies
from infra.settings import load_settings
from tests.conftest import stack_file_values
from tests.crd_schemas import crd_problems

NAMING = Naming("unit")
REVISION = "4f2a9c1d7e3b"  # pragma: allowlist secret (an Alembic revision)
IMAGE = "cr.yandex/crp0000000000000000/api@sha256:" + "ab" * 32
# A DNS-1123 label: a Job's name becomes its pods' label value, so it is held to 63 characters.
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def job(revision: str = REVISION) -> dict[str, Any]:
    return migrations.migration_job(NAMING, revision, IMAGE)


def backup(revision: str = REVISION) -> dict[str, Any]:
    return migrations.pre_migration_backup(NAMING, revision)


def pod_spec() -> dict[str, Any]:
    spec: dict[str, Any] = job()["spec"]["template"]["spec"]
    return spec


def env(container: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container["env"]}


def test_the_job_and_its_access_are_valid_kubernetes_objects_and_the_backup_valid_for_its_crd() -> None:
    for document in (job(), *migrations.migration_access(NAMING)):
        kubernetes_validate.validate(document, "1.30.0", strict=True)
    assert crd_problems(backup()) == []


@pytest.mark.parametrize("revision", [REVISION, "0123456789ab", "ffffffffffff"])
def test_names_come_from_the_revision_and_fit_kubernetes_limits(revision: str) -> None:
    for name in (job(revision)["metadata"]["name"], backup(revision)["metadata"]["name"]):
        assert revision in name
        assert DNS_LABEL.fullmatch(name), name


def test_a_release_that_keeps_the_revision_keeps_the_names_and_a_new_revision_gets_new_ones() -> None:
    other_image = IMAGE.replace("ab" * 32, "cd" * 32)
    # Same revision, new images: the same Job and Backup, so nothing is created or re-run.
    assert migrations.migration_job(NAMING, REVISION, other_image)["metadata"] == job()["metadata"]
    assert job("0123456789ab")["metadata"]["name"] != job()["metadata"]["name"]
    assert backup("0123456789ab")["metadata"]["name"] != backup()["metadata"]["name"]


def test_the_backup_is_of_the_running_cluster_through_its_archiving_plugin() -> None:
    spec = backup()["spec"]
    prof = load_settings("prod", stack_file_values("prod"), offline=True).database
    running = db_manifests.cluster(NAMING, APP_NAMESPACE, prof, db.backup_plan(NAMING, prof), 3)
    assert spec["cluster"] == {"name": running["metadata"]["name"]} == {"name": DATABASE_CLUSTER}
    assert spec["method"] == "plugin"
    assert spec["pluginConfiguration"]["name"] == running["spec"]["plugins"][0]["name"]
    assert backup()["metadata"]["namespace"] == running["metadata"]["namespace"]


def test_the_job_waits_for_its_own_backup_before_it_migrates() -> None:
    (wait,) = pod_spec()["initContainers"]
    waited = env(wait)
    assert waited["BACKUP_NAME"] == backup()["metadata"]["name"]
    assert waited["BACKUP_NAMESPACE"] == backup()["metadata"]["namespace"]
    assert wait["command"] == ["python", "-c", migrations.WAIT_SCRIPT]
    (migrate,) = pod_spec()["containers"]
    # Three heads in the app's alembic/versions: only `upgrade heads` applies them.
    assert migrate["command"][-2:] == ["upgrade", "heads"]
    assert wait["image"] == migrate["image"] == IMAGE


def test_the_wait_gives_up_early_enough_to_leave_the_migration_time_before_the_deadline() -> None:
    (wait,) = pod_spec()["initContainers"]
    timeout = int(env(wait)["TIMEOUT_SECONDS"])
    deadline = job()["spec"]["activeDeadlineSeconds"]
    assert 0 < timeout < deadline
    assert deadline - timeout >= 60


def test_a_failed_migration_is_left_for_a_person_not_retried() -> None:
    spec = job()["spec"]
    assert spec["backoffLimit"] == 0
    assert spec["template"]["spec"]["restartPolicy"] == "Never"


def test_the_jobs_account_may_only_read_backups_in_its_namespace() -> None:
    account, role, binding = migrations.migration_access(NAMING)
    assert pod_spec()["serviceAccountName"] == account["metadata"]["name"]
    # The wait reads the Backup with the account's token.
    assert account["automountServiceAccountToken"] is True
    (rule,) = role["rules"]
    assert (rule["apiGroups"], rule["resources"]) == (["postgresql.cnpg.io"], ["backups"])
    assert set(rule["verbs"]) <= {"get", "list", "watch"}
    assert role["kind"] == "Role"  # not a ClusterRole
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": role["kind"],
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["metadata"]["name"], "namespace": APP_NAMESPACE}
    ]
    assert {o["metadata"]["namespace"] for o in (account, role, binding)} == {APP_NAMESPACE}


def test_the_jobs_pods_are_the_ones_the_network_policies_let_reach_the_pooler() -> None:
    labels = job()["spec"]["template"]["metadata"]["labels"]
    policies = {p["metadata"]["name"]: p["spec"] for p in network_policies(NAMING)}
    migrate = policies["migrate"]["podSelector"]["matchLabels"]
    assert all(labels.get(k) == v for k, v in migrate.items())
    pooler_sources = [
        peer["podSelector"]["matchLabels"]
        for rule in policies["database-pooler"]["ingress"]
        for peer in rule["from"]
        if "podSelector" in peer
    ]
    assert any(all(labels.get(k) == v for k, v in source.items()) for source in pooler_sources)


def test_the_migration_reads_the_same_configuration_as_the_app() -> None:
    (migrate,) = pod_spec()["containers"]
    assert [next(iter(source.values()))["name"] for source in migrate["envFrom"]] == [
        "samokoder-config",
        "samokoder-app-secrets",  # pragma: allowlist secret (a Secret's name)
    ]
    # A read-only root: alembic's scratch files go to a bounded volume.
    volumes = {v["name"]: v for v in pod_spec()["volumes"]}
    for mount in migrate["volumeMounts"]:
        assert "sizeLimit" in volumes[mount["name"]]["emptyDir"]


def test_pulumi_waits_for_the_job_as_long_as_the_job_may_run() -> None:
    job = migrations.migration_job(NAMING, REVISION, IMAGE)
    # Pulumi's default wait for a Job is 10 minutes; the backup wait alone may take 55.
    waits = int(job["metadata"]["annotations"]["pulumi.com/timeoutSeconds"])
    assert waits > job["spec"]["activeDeadlineSeconds"] > migrations.BACKUP_TIMEOUT_SECONDS
