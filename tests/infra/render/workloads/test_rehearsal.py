"""The rehearsal's copy and Job: a one-instance recovery cluster that logs DDL, and the release image
running the steps script against that copy only."""

from __future__ import annotations

import kubernetes_validate
import pytest

from infra.conventions import Naming
from infra.render.workloads import rehearsal
from infra.settings import load_settings
from tests.conftest import STACKS, stack_file_values
from tests.crd_schemas import crd_problems

IMAGE = "cr.yandex/crp1/api@sha256:" + "a" * 64


@pytest.mark.parametrize("stack", STACKS)
def test_the_copy_is_a_recovery_of_the_latest_point_that_logs_ddl_and_archives_nothing(stack: str) -> None:
    settings = load_settings(stack, stack_file_values(stack), offline=True)
    cluster = rehearsal.rehearsal_cluster(settings, revision="b2c3d4", run="9f8e7d")
    assert crd_problems(cluster) == []
    spec = cluster["spec"]
    assert cluster["metadata"]["name"] == "samokoder-db-rehearsal-b2c3d4-9f8e7d"
    assert cluster["metadata"]["labels"][rehearsal.RUN_LABEL] == "9f8e7d"
    assert spec["inheritedMetadata"] == {"labels": {"samokoder.ru/copy": "rehearsal"}}
    assert "recoveryTarget" not in spec["bootstrap"]["recovery"]
    assert spec["externalClusters"][0]["plugin"]["parameters"]["serverName"] == "samokoder-db"
    assert (spec["instances"], spec["plugins"]) == (1, [])
    assert spec["postgresql"]["parameters"]["log_statement"] == "ddl"
    # Not the running cluster's component: the restore clusters' network policies are its own.
    assert cluster["metadata"]["labels"]["app.kubernetes.io/component"] == "database-rehearsal"


RESTORED = "samokoder-db-restore-20261126-0630"


@pytest.mark.parametrize("stack", STACKS)
def test_after_a_cut_over_the_copy_is_of_the_restored_clusters_archive(stack: str) -> None:
    """The restored cluster archives under its own name (infra/render/database/manifests.py); the idle
    running cluster's archive stops at the cut-over, so a copy of it would rehearse on old data."""
    values = {**stack_file_values(stack), "restore": {"into": RESTORED}, "cut_over": {"to": RESTORED}}
    settings = load_settings(stack, values, offline=True)
    cluster = rehearsal.rehearsal_cluster(settings, revision="b2c3d4", run="9f8e7d")
    (origin,) = cluster["spec"]["externalClusters"]
    assert origin["plugin"]["parameters"] == {"barmanObjectName": "samokoder-backups", "serverName": RESTORED}
    assert crd_problems(cluster) == []


def test_the_job_runs_the_steps_script_with_the_release_image_against_the_copy() -> None:
    job = rehearsal.rehearsal_job(Naming("prod"), "b2c3d4", "9f8e7d", IMAGE)
    kubernetes_validate.validate(job, "1.30.0", strict=True)
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["image"] == IMAGE
    assert container["command"][:2] == ["python", "-c"]
    assert "def main()" in container["command"][2]
    env = {item["name"]: item.get("value") or item["valueFrom"] for item in container["env"]}
    assert env["REHEARSAL_HOST"] == "samokoder-db-rehearsal-b2c3d4-9f8e7d-rw.samokoder.svc"
    # The copy's own owner login: a recovery that names its owner resets the role's password.
    copy_app = "samokoder-db-rehearsal-b2c3d4-9f8e7d-app"
    assert env["DATABASE_PASSWORD"] == {"secretKeyRef": {"name": copy_app, "key": "password"}}
    assert env["DATABASE_USER"] == {"secretKeyRef": {"name": copy_app, "key": "username"}}
    assert (env["ALEMBIC"], env["ALEMBIC_CONFIG"]) == ("/app/.venv/bin/alembic", "/app/alembic.ini")
    assert job["spec"]["backoffLimit"] == 0
    assert job["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] == "migration-rehearsal"


def test_the_runs_policies_let_the_job_reach_a_copy_only_and_carry_the_run() -> None:
    job_policy, copy_policy = rehearsal.rehearsal_policies(Naming("prod"), "9f8e7d")
    for policy in (job_policy, copy_policy):
        kubernetes_validate.validate(policy, "1.30.0", strict=True)
        assert policy["metadata"]["labels"][rehearsal.RUN_LABEL] == "9f8e7d"
    (egress,) = job_policy["spec"]["egress"]
    assert egress["to"][0]["podSelector"]["matchLabels"][rehearsal.COPY_LABEL] == "rehearsal"
    assert job_policy["spec"]["policyTypes"] == ["Egress"]
    assert copy_policy["spec"]["podSelector"]["matchLabels"]["cnpg.io/podRole"] == "instance"
