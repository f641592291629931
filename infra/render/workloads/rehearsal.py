"""The migration rehearsal's objects: a throwaway copy of the database and the Job that migrates it.

The copy is CloudNativePG's recovery bootstrap from the stack's object store, to the end of its
archive: the stack's real data as of minutes ago, one instance, no archive of its own, and every
DDL statement in its log (``log_statement = ddl``; CloudNativePG leaves it settable and logs
csvlog as JSON, pkg/postgres/configuration.go:504-566 at v1.30.0). The Job runs the release's
image with the steps script (infra/render/database/rehearse_steps.py) against the copy's
read-write Service, as the owner with the password the copy's own ``<copy>-app`` Secret holds:
a recovery that names its owner and no secret gets a new password, which the instance manager
sets on the role (api/v1/cluster_funcs.go:907-911, internal/controller/cluster_create.go:222-241,
internal/management/controller/instance_controller.go:1365-1392). Two NetworkPolicies let the Job
reach the copy and nothing else. Every object carries the run's label and name suffix, and the
command creates them for one run and deletes them after (infra/ops/automation/rehearsal.py);
infra/ops/releases/rehearsal.py judges what the Job and the copy print.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from infra.app_contract import MIGRATIONS
from infra.conventions import APP_NAMESPACE, DATABASE_OPERATOR_NAMESPACE, NAME_LABEL, Naming
from infra.render.database import manifests, rehearse_steps
from infra.render.database.plan import served_backup_plan
from infra.render.k8s import manifest, namespace_peer, network_policy, ports, rule
from infra.render.workloads import upstream_pods as up
from infra.render.workloads.manifests import app_environment, job_container
from infra.render.workloads.security import pod_security
from infra.settings.stack import StackSettings

REHEARSAL = "migration-rehearsal"
REHEARSE = {NAME_LABEL: REHEARSAL}
# On the top-level objects of a run: what its sweep and its clean-up delete.
RUN_LABEL = "samokoder.ru/rehearsal"
# Which kind of copy a pod is, on the copy's instance and job pods through the Cluster's
# inheritedMetadata (CloudNativePG api/v1/cluster_funcs.go:681-686, internal/controller/
# cluster_create.go:1309-1312,1586-1587 at v1.30.0; its own labels, cnpg.io/cluster and the rest,
# are set beside them: pkg/specs/pods.go:546-553, jobs.go:360-367): the one database a kind's Job may
# reach (its policies here and in drill.py), a value per kind so that a rehearsal's migration and a
# drill's check never reach each other's copy. A key apart from the run labels: neither kind's
# sweep (``-l <run label>``) takes the other's copy's recovery Job.
COPY_LABEL = "samokoder.ru/copy"
COPY = {COPY_LABEL: "rehearsal"}
COMPONENT = "database-rehearsal"
STEPS_SCRIPT = Path(rehearse_steps.__file__).read_text()
DEADLINE_SECONDS = 1800
# The release image's Alembic and its configuration, as the migration Job runs them.
ALEMBIC, _, ALEMBIC_CONFIG = MIGRATIONS.command[:3]


def copy_name(revision: str, run: str) -> str:
    return f"samokoder-db-rehearsal-{revision}-{run}"


def job_name(revision: str, run: str) -> str:
    return f"{REHEARSAL}-{revision}-{run}"


def _labelled(manifest: dict[str, Any], run: str, run_label: str = RUN_LABEL) -> dict[str, Any]:
    manifest["metadata"].setdefault("labels", {})[run_label] = run
    return manifest


def copy_cluster(
    settings: StackSettings, *, name: str, copy: Mapping[str, str], run_label: str, run: str
) -> dict[str, Any]:
    """A throwaway copy of the data of the cluster that serves the app (after a cut-over the restored
    one's archive, not the idle running cluster's), its pods labelled ``copy``, itself
    ``run_label``=``run``: the rehearsal's, and the restore drill's (infra/render/workloads/drill.py)."""
    naming = Naming(settings.stack)
    backups, zones = served_backup_plan(naming, settings), len(settings.network.zones)
    cluster = manifests.recovery_cluster(
        naming, APP_NAMESPACE, settings.database, backups, zones, name=name, target_time=None
    )
    cluster["metadata"]["labels"] = naming.k8s_labels(name, COMPONENT)
    spec = cluster["spec"]
    spec["instances"] = 1
    spec["inheritedMetadata"] = {"labels": dict(copy)}
    # A copy to throw away: no WAL archive of its own in the stack's bucket.
    spec["plugins"] = []
    spec["postgresql"]["parameters"] |= {"log_statement": "ddl", "log_timezone": "UTC"}
    return _labelled(cluster, run, run_label)


def rehearsal_cluster(settings: StackSettings, *, revision: str, run: str) -> dict[str, Any]:
    name = copy_name(revision, run)
    return copy_cluster(settings, name=name, copy=COPY, run_label=RUN_LABEL, run=run)


def one_shot_job(
    metadata: dict[str, Any], labels: dict[str, str], pod: dict[str, Any], deadline_seconds: int
) -> dict[str, Any]:
    """A Job that runs its pod once, never retried, and is stopped after ``deadline_seconds``."""
    spec = {
        "backoffLimit": 0,
        "activeDeadlineSeconds": deadline_seconds,
        "template": {"metadata": {"labels": labels}, "spec": pod},
    }
    return manifest("batch/v1", "Job", metadata, spec=spec)


def rehearsal_job(naming: Naming, revision: str, run: str, api_image: str) -> dict[str, Any]:
    labels = {**naming.k8s_labels(REHEARSAL, "migration"), **REHEARSE}
    copy = copy_name(revision, run)
    environment: list[dict[str, Any]] = [
        {"name": "REHEARSAL_HOST", "value": f"{copy}-rw.{APP_NAMESPACE}.svc"},
        {"name": "REHEARSAL_PORT", "value": str(up.POSTGRES)},
        {"name": "ALEMBIC", "value": ALEMBIC},
        {"name": "ALEMBIC_CONFIG", "value": ALEMBIC_CONFIG},
        # The copy's owner login (CloudNativePG's basic-auth "<cluster>-app" Secret).
        *(
            {"name": name, "valueFrom": {"secretKeyRef": {"name": f"{copy}-app", "key": key}}}
            for name, key in (("DATABASE_USER", "username"), ("DATABASE_PASSWORD", "password"))
        ),
    ]
    rehearse = job_container(
        "rehearse",
        api_image,
        ["python", "-c", STEPS_SCRIPT],
        envFrom=app_environment(),
        env=environment,
        volumeMounts=[{"name": "tmp", "mountPath": "/tmp"}],
    )
    pod = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": pod_security(),
        "containers": [rehearse],
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
    }
    metadata = {"name": job_name(revision, run), "namespace": APP_NAMESPACE, "labels": labels}
    job = one_shot_job(metadata, labels, pod, DEADLINE_SECONDS)
    return _labelled(job, run)


def rehearsal_policies(naming: Naming, run: str) -> list[dict[str, Any]]:
    """The Job reaches a copy (and DNS, which allow-dns gives every pod); a copy admits only it and
    the operator's status calls. Not in the stack: they exist while a rehearsal runs."""
    copies = {"matchLabels": {**up.CNPG_DATABASE, up.POD_ROLE: "instance", **COPY}}
    job, operator = (
        {"matchLabels": REHEARSE},
        namespace_peer(DATABASE_OPERATOR_NAMESPACE, up.CNPG_OPERATOR_LABELS),
    )
    policies = [
        network_policy(
            naming, REHEARSAL, job, [], [rule([{"podSelector": copies}], ports(up.POSTGRES), "egress")]
        ),
        network_policy(
            naming,
            f"{REHEARSAL}-copy",
            copies,
            [
                rule([{"podSelector": job}], ports(up.POSTGRES), "ingress"),
                rule([operator], ports(up.INSTANCE_STATUS), "ingress"),
            ],
            [],
        ),
    ]
    return [_labelled(policy, run) for policy in policies]
