"""The names and selectors every rule and panel uses, spelled once.

Metric names are the app's (``samokoder_*``, ``infra/app_contract.py``),
ingress-nginx's (``infra/ingress_contract.py``) and the exporters' the stack
deploys; ``sources.py`` catalogues where each was read. Fixed here, in one
place, so that a change upstream is a change of one line:

* the label *values* of ``db_connection_pool_size{state}`` (we read
  ``in_use`` and ``max``) and ``auth_attempts_total{result}`` (``failure``);
* the ``job`` of the API's scrape target: the ``ServiceMonitor`` sets it
  explicitly, so it does not depend on how the Service is named;
* the API's Ingress at the edge, selected by its ``ingress`` label (the
  request's own ``namespace`` and ``service`` are stored as ``exported_*``).

Container, volume, pod and deployment metrics come from kube-prometheus-stack's
own exporters (cAdvisor through the kubelet, kube-state-metrics), which the
rules never select by job: the charts name those jobs, not this program.
"""

from __future__ import annotations

from typing import Final

from infra import ingress_contract as edge
from infra.app_contract import API_ROUTE_PREFIX, QUEUE_KEY
from infra.conventions import API_JOB, APP_NAMESPACE, BLACKBOX_JOB, DRILL_JOB
from infra.render.workloads.routes import API as API_INGRESS

NAMESPACE: Final = APP_NAMESPACE
API: Final = f'job="{API_JOB}"'
APP_CONTAINERS: Final = f'namespace="{NAMESPACE}", container!="", container!="POD"'
# The API's main container (infra/render/workloads/manifests.py names it after the service).
API_CONTAINER: Final = f'namespace="{NAMESPACE}", container="api"'
POOL_IN_USE: Final = 'state="in_use"'
POOL_MAX: Final = 'state="max"'
AUTH_FAILURE: Final = 'result="failure"'

# The app's "endpoint" label (the raw path) as stored: the ServiceMonitor's target sets its
# own endpoint (the port's name), so Prometheus keeps the app's as exported_endpoint.
APP_ENDPOINT: Final = "exported_endpoint"

# The app's metric names.
HTTP_REQUESTS: Final = "samokoder_http_requests_total"
HTTP_DURATION: Final = "samokoder_http_request_duration_seconds"
HTTP_IN_PROGRESS: Final = "samokoder_http_requests_in_progress"
LLM_REQUESTS: Final = "samokoder_llm_requests_total"
LLM_ERRORS: Final = "samokoder_llm_request_errors_total"
LLM_DURATION: Final = "samokoder_llm_request_duration_seconds"
LLM_TOKENS: Final = "samokoder_llm_tokens_consumed_total"
DB_DURATION: Final = "samokoder_db_query_duration_seconds"
DB_ERRORS: Final = "samokoder_db_errors_total"
DB_POOL: Final = "samokoder_db_connection_pool_size"
CONNECTIONS: Final = "samokoder_network_connections_active"
AUTH_ATTEMPTS: Final = "samokoder_auth_attempts_total"
PROJECTS_CREATED: Final = "samokoder_projects_created_total"
RATE_LIMIT_HITS: Final = "samokoder_rate_limit_hits_total"
# prometheus_client's process collector on the API (the app's own fd gauges are never set).
PROCESS_FDS_OPEN: Final = "process_open_fds"
PROCESS_FDS_MAX: Final = "process_max_fds"

# The edge: ingress-nginx's per-request metrics of the API's Ingress. A websocket's 101 is
# observed when the session ends (up to an hour): not a latency.
EDGE_REQUESTS: Final = edge.REQUESTS
EDGE_DURATION: Final = edge.REQUEST_DURATION
EDGE_API: Final = f'ingress="{API_INGRESS}"'
EDGE_ERRORS: Final = 'status=~"5.."'
EDGE_NOT_WEBSOCKET: Final = f'status!="{edge.WEBSOCKET_STATUS}"'
# Users' requests as the app counts them: only the Ingress routes /v1/... to it (its endpoint
# label is the raw path, stored as exported_endpoint; probes ask /health, Prometheus /metrics/).
APP_USER_REQUESTS: Final = f'{HTTP_REQUESTS}{{{API}, exported_endpoint=~"{API_ROUTE_PREFIX}/.*"}}'

# Kubernetes: kube-state-metrics.
RESTARTS: Final = "kube_pod_container_status_restarts_total"
WAITING: Final = "kube_pod_container_status_waiting_reason"
CRASH_LOOP: Final = 'reason="CrashLoopBackOff"'

# Redis, through redis_exporter in the app's namespace; the queue is arq's sorted set.
REDIS: Final = f'namespace="{NAMESPACE}"'
REDIS_UP: Final = "redis_up"
REDIS_MEMORY_USED: Final = "redis_memory_used_bytes"
REDIS_MEMORY_MAX: Final = "redis_memory_max_bytes"
REDIS_REJECTED: Final = "redis_rejected_connections_total"
REDIS_CLIENTS: Final = "redis_connected_clients"
REDIS_COMMANDS: Final = "redis_commands_processed_total"
REDIS_KEY_SIZE: Final = "redis_key_size"
QUEUE: Final = f'{REDIS}, key="{QUEUE_KEY}"'


# The database: CloudNativePG's collector and the Barman Cloud plugin, scraped
# from every instance by the cluster's PodMonitor, which adds ``cluster``.
def database(cluster: str) -> str:
    """The matchers of ``cluster``'s series: the stack's settings name the one that serves the app
    (StackSettings.database_cluster)."""
    return f'namespace="{NAMESPACE}", cluster="{cluster}"'


CNPG_UP: Final = "cnpg_collector_up"
WAL_ARCHIVE_STATUS: Final = "cnpg_collector_pg_wal_archive_status"
WAL_ARCHIVED: Final = "cnpg_pg_stat_archiver_archived_count"
WAL_ARCHIVE_FAILED: Final = "cnpg_pg_stat_archiver_failed_count"
REPLICATION_LAG: Final = "cnpg_pg_replication_lag"
# The plugin's own series: the in-core cnpg_collector_last_*_backup_timestamp
# do not see backups taken through the plugin.
LAST_BACKUP: Final = "barman_cloud_cloudnative_pg_io_last_available_backup_timestamp"
LAST_FAILED_BACKUP: Final = "barman_cloud_cloudnative_pg_io_last_failed_backup_timestamp"
FIRST_RECOVERABILITY: Final = "barman_cloud_cloudnative_pg_io_first_recoverability_point"
BACKENDS: Final = "cnpg_backends_total"
DATABASE_SIZE: Final = "cnpg_pg_database_size_bytes"
XACT_COMMIT: Final = "cnpg_pg_stat_database_xact_commit"
XACT_ROLLBACK: Final = "cnpg_pg_stat_database_xact_rollback"
DEADLOCKS: Final = "cnpg_pg_stat_database_deadlocks"
SETTING: Final = "cnpg_pg_settings_setting"

# What the restore drill pushes to the Pushgateway (infra/render/workloads/drill.py): the end of
# its last good run, how long its last restore took, and whether its last run passed (1) or not (0).
DRILL_LAST_SUCCESS: Final = "samokoder_restore_drill_last_success_timestamp_seconds"
DRILL_RESTORE_SECONDS: Final = "samokoder_restore_drill_restore_seconds"
DRILL_SUCCESS: Final = "samokoder_restore_drill_success"
DRILL: Final = f'job="{DRILL_JOB}"'

# The blackbox exporter's probes of the API's health and the site (the Probe object).
PROBE: Final = f'job="{BLACKBOX_JOB}"'

# Where every alert's runbook lives: docs/runbooks/alerts.md, one section per alert.
RUNBOOK_BASE_URL: Final = "https://github.com/samokoder/samokoder-infra/blob/main/docs/runbooks/alerts.md"


def le_matcher(bound: float) -> str:
    """Matcher for a histogram bucket bound, whichever way it was written.

    The Python client writes whole bounds as ``1.0``; Prometheus 3 normalises
    them to ``1`` on ingestion. Matching both keeps the SLI counting across
    that upgrade instead of silently returning nothing.
    """
    go = f"{bound:g}"
    python = repr(float(bound))
    if go == python:
        return f'le="{go}"'
    # A character class spells the literal dot without PromQL string escapes.
    return f'le=~"{go}|{python.replace(".", "[.]")}"'
