"""The restore drill's copy, check Job and policies, and its SQL on a real PostgreSQL 15: a copy
missing a table or emptied where the running database holds rows fails, a good one passes."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import kubernetes_validate
import pytest

from infra.app_contract import TABLES
from infra.conventions import Naming
from infra.render.database.plan import POSTGRES_IMAGE
from infra.render.workloads import drill, rehearsal
from infra.settings import load_settings
from tests.conftest import STACKS, stack_file_values
from tests.crd_schemas import crd_problems
from tests.infra.render.database.drill.drill import Postgres, _scratch_directory
from tests.tools import postgres_tool

RUN = "9f8e7d"


@pytest.mark.parametrize("stack", STACKS)
def test_the_copy_is_the_rehearsals_copy_under_the_drills_run_label(stack: str) -> None:
    settings = load_settings(stack, stack_file_values(stack), offline=True)
    cluster = drill.drill_cluster(settings, RUN)
    assert crd_problems(cluster) == []
    assert cluster["metadata"]["name"] == f"samokoder-db-drill-{RUN}"
    labels = cluster["metadata"]["labels"]
    # Its own run label: a drill's sweep leaves a rehearsal running beside it alone, and back.
    assert labels[drill.RUN_LABEL] == RUN
    assert rehearsal.RUN_LABEL not in labels
    rehearsal_copy = rehearsal.rehearsal_cluster(settings, revision="b2c3d4", run=RUN)
    # The same copy but for the kind its pods carry: a drill's check reaches no rehearsal's copy.
    spec, theirs = (dict(c["spec"]) for c in (cluster, rehearsal_copy))
    assert spec.pop("inheritedMetadata") == {"labels": {rehearsal.COPY_LABEL: "drill"}}
    assert theirs.pop("inheritedMetadata") == {"labels": {rehearsal.COPY_LABEL: "rehearsal"}}
    assert spec == theirs


RESTORED = "samokoder-db-restore-20261126-0630"


@pytest.mark.parametrize("stack", STACKS)
def test_after_a_cut_over_the_drill_copies_the_restored_clusters_archive(stack: str) -> None:
    values = {**stack_file_values(stack), "restore": {"into": RESTORED}, "cut_over": {"to": RESTORED}}
    cluster = drill.drill_cluster(load_settings(stack, values, offline=True), RUN)
    (origin,) = cluster["spec"]["externalClusters"]
    assert origin["plugin"]["parameters"]["serverName"] == RESTORED
    assert drill.serving_instances(RESTORED) == f"svc/{RESTORED}-r"


def test_the_check_job_runs_psql_of_the_copys_image_against_the_copy_only() -> None:
    job = drill.check_job(Naming("prod"), RUN, ["users"])
    kubernetes_validate.validate(job, "1.30.0", strict=True)
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["image"] == POSTGRES_IMAGE
    assert container["command"][0] == "psql"
    assert "ON_ERROR_STOP=1" in container["command"]
    assert "nonempty text[] := ARRAY['users']::text[]" in container["command"][-1]
    env = {item["name"]: item.get("value") or item["valueFrom"] for item in container["env"]}
    assert env["PGHOST"] == f"samokoder-db-drill-{RUN}-rw.samokoder.svc"
    assert env["PGPASSWORD"] == {"secretKeyRef": {"name": f"samokoder-db-drill-{RUN}-app", "key": "password"}}
    assert job["metadata"]["labels"][drill.RUN_LABEL] == RUN
    assert job["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] == drill.DRILL
    assert job["spec"]["backoffLimit"] == 0


def test_the_drills_policies_let_its_job_reach_a_copy_only_and_carry_the_run() -> None:
    job_policy, copy_policy = drill.drill_policies(Naming("prod"), RUN)
    for policy in (job_policy, copy_policy):
        kubernetes_validate.validate(policy, "1.30.0", strict=True)
        assert policy["metadata"]["labels"][drill.RUN_LABEL] == RUN
    (egress,) = job_policy["spec"]["egress"]
    assert egress["to"][0]["podSelector"]["matchLabels"][rehearsal.COPY_LABEL] == "drill"
    assert copy_policy["spec"]["podSelector"]["matchLabels"][rehearsal.COPY_LABEL] == "drill"
    assert [p["port"] for p in egress["ports"]] == [5432]
    assert job_policy["spec"]["policyTypes"] == ["Egress"]
    sources = [peer for rule in copy_policy["spec"]["ingress"] for peer in rule["from"]]
    assert {"podSelector": {"matchLabels": drill.CHECK}} in sources


def test_a_table_name_that_is_no_identifier_is_refused() -> None:
    with pytest.raises(ValueError, match="is not a table name"):
        drill.check_sql(["users; DROP TABLE users"])


def test_the_push_goes_to_the_group_of_the_stack_and_the_drilled_archive_through_the_service_proxy() -> None:
    proxy = "/api/v1/namespaces/monitoring/services/http:prometheus-pushgateway:9091/proxy"
    # The running cluster's first archive keeps the group it always had: its results stay read.
    assert drill.push_path("prod", None) == f"{proxy}/metrics/job/samokoder-restore-drill/stack/prod"
    assert drill.push_path("prod", "samokoder-db-restored") == (
        f"{proxy}/metrics/job/samokoder-restore-drill/stack/prod/archive/samokoder-db-restored"
    )
    passed = drill.drill_metrics(passed=True, restore_seconds=600, finished_at=1.8e9)
    assert "samokoder_restore_drill_success 1.000" in passed
    assert "samokoder_restore_drill_last_success_timestamp_seconds 1800000000.000" in passed
    # A failure keeps the last success's time (POST replaces only what it carries).
    failed = drill.drill_metrics(passed=False, restore_seconds=None, finished_at=1.8e9)
    assert "samokoder_restore_drill_success 0.000" in failed
    assert "last_success" not in failed
    # Carried as NaN, so that the POST replaces an earlier run's time.
    assert "samokoder_restore_drill_restore_seconds nan" in failed


# --- the SQL on a real PostgreSQL ---------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[Postgres]:
    root = _scratch_directory()
    db = Postgres(root, "drill", {})
    db.init()
    db.start({})
    try:
        yield db
    finally:
        db.stop()
        shutil.rmtree(root, ignore_errors=True)


def database(server: Postgres, name: str, *, missing: str = "", empty: str = "") -> str:
    server.sql(f"DROP DATABASE IF EXISTS {name}", "postgres")
    server.sql(f"CREATE DATABASE {name}", "postgres")
    for table in TABLES:
        if table != missing:
            server.sql(f"CREATE TABLE {table} (id int)", name)
            if table != empty:
                server.sql(f"INSERT INTO {table} VALUES (1), (2)", name)
    return name


def run_psql(server: Postgres, name: str, sql: str) -> subprocess.CompletedProcess[str]:
    """As the check Job runs it: psql with the Job's flags, the SQL in -c."""
    command = [str(postgres_tool("psql")), *drill.psql(sql)[1:]]
    where = ["-h", str(server.socket_dir), "-p", str(server.port), "-U", "postgres", "-d", name]
    return subprocess.run([*command, *where], capture_output=True, text=True, check=False)


@pytest.mark.tool
def test_the_check_passes_a_good_copy_and_fails_one_missing_a_table_or_emptied(server: Postgres) -> None:
    source = database(server, "source", empty="login_attempts")
    found = run_psql(server, source, drill.nonempty_sql())
    assert found.returncode == 0, found.stderr
    nonempty = found.stdout.split()
    assert set(nonempty) == set(TABLES) - {"login_attempts"}

    good = run_psql(server, database(server, "good", empty="login_attempts"), drill.check_sql(nonempty))
    assert good.returncode == 0, good.stderr
    assert "restore drill: 2 row(s) in users" in good.stderr
    assert "restore drill: passed" in good.stderr

    lacking = run_psql(server, database(server, "lacking", missing="projects"), drill.check_sql(nonempty))
    assert lacking.returncode != 0
    assert "the copy lacks table(s) projects" in lacking.stderr

    emptied = run_psql(server, database(server, "emptied", empty="users"), drill.check_sql(nonempty))
    assert emptied.returncode != 0
    assert "no rows in the copy, rows in the running database: users" in emptied.stderr


@pytest.mark.tool
def test_a_table_missing_from_the_running_database_is_left_out_not_an_error(server: Postgres) -> None:
    source = database(server, "partial", missing="files")
    found = run_psql(server, source, drill.nonempty_sql())
    assert found.returncode == 0, found.stderr
    assert "files" not in found.stdout.split()
    assert "users" in found.stdout.split()
