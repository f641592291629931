"""The app's metric contract and the selectors every rule and panel uses.

Metric names and labels are the app's (``samokoder_*``, see DESIGN.md). Two
things the contract leaves open are fixed here, in one place, so that a
change in the app is a change of one line:

* the label *values* of ``db_connection_pool_size{state}`` (we read
  ``in_use`` and ``max``) and ``auth_attempts_total{result}`` (``failure``);
* the ``job`` of the API's scrape target: the ``ServiceMonitor`` sets it
  explicitly, so it does not depend on how the Service is named.

Container, volume and target metrics come from kube-prometheus-stack's own
exporters (cAdvisor through the kubelet, kube-state-metrics).
"""

from __future__ import annotations

from typing import Final

from infra.conventions import API_JOB, APP_NAMESPACE, BLACKBOX_JOB, DATABASE_CLUSTER

NAMESPACE: Final = APP_NAMESPACE
API: Final = f'job="{API_JOB}"'
APP_CONTAINERS: Final = f'namespace="{NAMESPACE}", container!="", container!="POD"'
POOL_IN_USE: Final = 'state="in_use"'
POOL_MAX: Final = 'state="max"'
AUTH_FAILURE: Final = 'result="failure"'

# The app's metric names.
HTTP_REQUESTS: Final = "samokoder_http_requests_total"
HTTP_DURATION: Final = "samokoder_http_request_duration_seconds"
LLM_REQUESTS: Final = "samokoder_llm_requests_total"
LLM_ERRORS: Final = "samokoder_llm_request_errors_total"
LLM_DURATION: Final = "samokoder_llm_request_duration_seconds"
LLM_TOKENS: Final = "samokoder_llm_tokens_consumed_total"
DB_DURATION: Final = "samokoder_db_query_duration_seconds"
DB_ERRORS: Final = "samokoder_db_errors_total"
DB_POOL: Final = "samokoder_db_connection_pool_size"
QUEUE_DEPTH: Final = "samokoder_worker_queue_depth"
FDS_OPEN: Final = "samokoder_file_descriptors_open"
FDS_MAX: Final = "samokoder_file_descriptors_max"
CONNECTIONS: Final = "samokoder_network_connections_active"
AUTH_ATTEMPTS: Final = "samokoder_auth_attempts_total"
PROJECTS_CREATED: Final = "samokoder_projects_created_total"

# The database: CloudNativePG's collector and the Barman Cloud plugin, scraped
# from every instance by the database's PodMonitor, which adds ``cluster``.
DATABASE: Final = f'namespace="{NAMESPACE}", cluster="{DATABASE_CLUSTER}"'
CNPG_UP: Final = "cnpg_collector_up"
WAL_ARCHIVE_STATUS: Final = "cnpg_collector_pg_wal_archive_status"
WAL_ARCHIVED: Final = "cnpg_pg_stat_archiver_archived_count"
WAL_ARCHIVE_FAILED: Final = "cnpg_pg_stat_archiver_failed_count"
REPLICATION_LAG: Final = "cnpg_pg_replication_lag"
# The plugin's own series: the in-core cnpg_collector_last_*_backup_timestamp
# do not see backups taken through the plugin.
LAST_BACKUP: Final = "barman_cloud_cloudnative_pg_io_last_available_backup_timestamp"
LAST_FAILED_BACKUP: Final = "barman_cloud_cloudnative_pg_io_last_failed_backup_timestamp"

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
