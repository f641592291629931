"""The restore drill's objects: a throwaway copy of the database, the Job that checks it, and what
the drill reports to Prometheus.

The copy is the migration rehearsal's (rehearsal.copy_cluster: CloudNativePG's recovery from the
stack's object store to the end of its archive, one instance, no archive of its own), under the
drill's own run label so that neither sweeps the other's objects away. The check Job runs psql
from the copy's own PostgreSQL image against the copy's read-write Service, as the owner the
copy's ``<copy>-app`` Secret holds (rehearsal.py says why that login works): every table the app's
Alembic heads leave (infra/app_contract.py TABLES) must be there, and every one the running
database holds rows in must hold rows in the copy. Two NetworkPolicies let the Job reach the copy
and nothing else. The command (infra/ops/automation/drill.py) times the restore, reads the Job's
outcome, pushes the three gauges below to the Pushgateway and deletes the copy.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

from infra.app_contract import TABLES
from infra.conventions import (
    APP_NAMESPACE,
    DATABASE_OPERATOR_NAMESPACE,
    DRILL_JOB,
    MONITORING_NAMESPACE,
    NAME_LABEL,
    PUSHGATEWAY_PORT,
    PUSHGATEWAY_RELEASE,
    Naming,
)
from infra.render.database.plan import POSTGRES_IMAGE
from infra.render.k8s import namespace_peer, network_policy, ports, rule
from infra.render.monitoring import contract as m
from infra.render.workloads import upstream_pods as up
from infra.render.workloads.manifests import job_container
from infra.render.workloads.rehearsal import COPY_LABEL, copy_cluster, one_shot_job
from infra.render.workloads.security import pod_security
from infra.settings.stack import StackSettings

DRILL = "restore-drill"
CHECK = {NAME_LABEL: DRILL}
# On the drill's top-level objects: what its sweep and its clean-up delete.
RUN_LABEL = "samokoder.ru/drill"
# On its copy's pods: a drill's copy, which only the check Job reaches (rehearsal.COPY_LABEL).
COPY = {COPY_LABEL: "drill"}
DEADLINE_SECONDS = 900
DATABASE = "samokoder"
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


def copy_name(run: str) -> str:
    return f"samokoder-db-drill-{run}"


def job_name(run: str) -> str:
    return f"{DRILL}-{run}"


def drill_cluster(settings: StackSettings, run: str) -> dict[str, Any]:
    return copy_cluster(settings, name=copy_name(run), copy=COPY, run_label=RUN_LABEL, run=run)


def _array(tables: Iterable[str]) -> str:
    names = list(tables)
    for name in names:
        if not _IDENTIFIER.fullmatch(name):
            raise ValueError(f"{name!r} is not a table name")
    return f"ARRAY[{', '.join(repr(n) for n in names)}]::text[]" if names else "'{}'::text[]"


def nonempty_sql(tables: Sequence[str] = TABLES) -> str:
    """Which of ``tables`` hold a row, one name a line: asked of the running database, read-only and
    cheap (one row each, no count). A missing table is left out; the check then names it."""
    probe = "format('SELECT EXISTS (SELECT FROM public.%I) AS e', t)"
    holds = f"(xpath('/row/e/text()', query_to_xml({probe}, false, true, '')))[1]::text = 'true'"
    return (
        f"SELECT t FROM unnest({_array(tables)}) AS t "
        f"WHERE CASE WHEN to_regclass(format('public.%I', t)) IS NULL THEN false ELSE {holds} END "
        "ORDER BY t"
    )


def check_sql(nonempty: Iterable[str], tables: Sequence[str] = TABLES) -> str:
    """Fails (an exception, psql's exit 3 under ON_ERROR_STOP) when the copy lacks a table or holds
    no row where the running database held some; prints every table's count either way."""
    return f"""DO $drill$
DECLARE
  required text[] := {_array(tables)};
  nonempty text[] := {_array(nonempty)};
  missing text[];
  emptied text[] := '{{}}';
  tbl text;
  found bigint;
BEGIN
  SELECT coalesce(array_agg(t ORDER BY t), '{{}}') INTO missing
    FROM unnest(required) AS t WHERE to_regclass(format('public.%I', t)) IS NULL;
  IF cardinality(missing) > 0 THEN
    RAISE EXCEPTION 'restore drill: the copy lacks table(s) %', array_to_string(missing, ', ');
  END IF;
  FOREACH tbl IN ARRAY required LOOP
    EXECUTE format('SELECT count(*) FROM public.%I', tbl) INTO found;
    RAISE NOTICE 'restore drill: % row(s) in %', found, tbl;
    IF found = 0 AND tbl = ANY (nonempty) THEN
      emptied := emptied || tbl;
    END IF;
  END LOOP;
  IF cardinality(emptied) > 0 THEN
    RAISE EXCEPTION 'restore drill: no rows in the copy, rows in the running database: %',
      array_to_string(emptied, ', ');
  END IF;
  RAISE NOTICE 'restore drill: passed';
END
$drill$;"""


def psql(sql: str, database: str | None = None) -> list[str]:
    """psql running ``sql`` alone (no psqlrc), bare rows out, stopping at the first error (exit 3)."""
    where = ["-d", database] if database else []
    return ["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", *where, "-c", sql]


def check_job(naming: Naming, run: str, nonempty: Iterable[str]) -> dict[str, Any]:
    labels = {**naming.k8s_labels(DRILL, "database-drill"), **CHECK}
    copy = copy_name(run)
    login = (("PGUSER", "username"), ("PGPASSWORD", "password"))
    environment: list[dict[str, Any]] = [
        {"name": "PGHOST", "value": f"{copy}-rw.{APP_NAMESPACE}.svc"},
        {"name": "PGPORT", "value": str(up.POSTGRES)},
        {"name": "PGDATABASE", "value": DATABASE},
        # The copy's owner login (CloudNativePG's basic-auth "<cluster>-app" Secret).
        *(
            {"name": name, "valueFrom": {"secretKeyRef": {"name": f"{copy}-app", "key": key}}}
            for name, key in login
        ),
    ]
    check = job_container("check", POSTGRES_IMAGE, psql(check_sql(nonempty)), env=environment)
    pod = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": pod_security(),
        "containers": [check],
    }
    metadata = {"name": job_name(run), "namespace": APP_NAMESPACE, "labels": labels}
    job = one_shot_job(metadata, labels, pod, DEADLINE_SECONDS)
    job["metadata"]["labels"][RUN_LABEL] = run
    return job


def drill_policies(naming: Naming, run: str) -> list[dict[str, Any]]:
    """The check Job reaches a copy (and DNS, which allow-dns gives every pod); a copy admits it and
    the operator's status calls. Not in the stack: they exist while a drill runs."""
    copies = {"matchLabels": {**up.CNPG_DATABASE, up.POD_ROLE: "instance", **COPY}}
    operator = namespace_peer(DATABASE_OPERATOR_NAMESPACE, up.CNPG_OPERATOR_LABELS)
    policies = [
        network_policy(
            naming,
            DRILL,
            {"matchLabels": CHECK},
            [],
            [rule([{"podSelector": copies}], ports(up.POSTGRES), "egress")],
        ),
        network_policy(
            naming,
            f"{DRILL}-copy",
            copies,
            [
                rule([{"podSelector": {"matchLabels": CHECK}}], ports(up.POSTGRES), "ingress"),
                rule([operator], ports(up.INSTANCE_STATUS), "ingress"),
            ],
            [],
        ),
    ]
    for policy in policies:
        policy["metadata"]["labels"][RUN_LABEL] = run
    return policies


# --- what the drill reports --------------------------------------------------------------


def serving_instances(cluster: str) -> str:
    """Any instance of ``cluster``, the one serving the app, answers the read-only question
    (CloudNativePG's "-r" Service)."""
    return f"svc/{cluster}-r"


def push_path(stack: str, archive: str | None) -> str:
    """The Pushgateway's group for the stack and the archive the drill restored (plan.drill_group:
    after a cut-over or a rebuild, the old archive's success does not speak for the new one), through
    the API server's service proxy: the runner pushes, so no pod of the app namespace talks to the monitoring
    namespace. POST replaces only the metrics it carries, so a failed run keeps the last success's time.

    Upstream: ``kubectl create --raw URI -f FILE`` POSTs the file as it is (kubectl
    pkg/cmd/create/create.go:233, pkg/rawhttp/raw.go:75-76 at v0.36.3) with no Content-Type (client-go
    rest/request.go:517-519 at v0.36.3 sets one only for an object body); the Pushgateway parses any
    body but delimited protobuf as the text format (handler/push.go:89-114 at v1.11.3). POST is its
    push without replace (main.go:129,132), which keeps the group's other metric families
    (storage/diskmetricstore.go:288-296)."""
    service = f"http:{PUSHGATEWAY_RELEASE}:{PUSHGATEWAY_PORT}"
    return (
        f"/api/v1/namespaces/{MONITORING_NAMESPACE}/services/{service}/proxy"
        f"/metrics/job/{DRILL_JOB}/stack/{stack}" + ("" if archive is None else f"/archive/{archive}")
    )


def drill_metrics(*, passed: bool, restore_seconds: float | None, finished_at: float) -> str:
    """The Prometheus text format the Pushgateway takes: the outcome and the restore's time always
    (NaN when the copy never got ready), and the time of this success when it passed.

    Every push carries what describes its run: the push is a POST, which replaces only the families it
    carries in the group (pushgateway v1.11.3 README.md:409-413; PUT would replace the whole group,
    :366-370, and DELETE drops it all, :418-422), so a restore time left out would leave an earlier
    run's in the group, read as this one's. The last success's time is a pass's alone, so a failure
    keeps it (RestoreDrillStale)."""
    restore = math.nan if restore_seconds is None else restore_seconds
    gauges: list[tuple[str, str, float]] = [
        (m.DRILL_SUCCESS, "1 when the last restore drill passed, 0 when it failed", 1.0 if passed else 0.0),
        (m.DRILL_RESTORE_SECONDS, "seconds from creating the copy to its being ready (NaN: never)", restore),
    ]
    if passed:
        gauges.append((m.DRILL_LAST_SUCCESS, "when the last restore drill that passed ended", finished_at))
    lines = []
    for name, help_text, value in gauges:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {value:.3f}"]
    return "\n".join(lines) + "\n"
