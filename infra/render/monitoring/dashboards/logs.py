"""Log panels beside the golden signals: the API's errors, the migration Job, CloudNativePG's cluster.

They read Loki (its Grafana data source, ``LOKI_DATASOURCE_UID``) by the stream
labels the log collector sets and no other (infra/render/alloy_config.py:
``STREAM_LABELS``), so a selector here is one the metrics' labels also name.

What the API writes (AlexeyPevz/Samokoder at the commit docs/app-contract.md
names): uvicorn's own lines carry a level prefix ("ERROR:" for an exception in
the app, uvicorn's default log config "%(levelprefix)s %(message)s"); the app
configures no handler for its own loggers (core/log/__init__.py:6-38 sets up
the "core" logger, and the API never calls it), so their warnings and errors reach stderr
through Python's last-resort handler as the bare message with its traceback,
the unhandled-exception handler's "Unhandled exception [<id>]: ..."
(core/api/error_handlers.py:13-31).
"""

from __future__ import annotations

from typing import Final

from grafana_foundation_sdk.builders import logs, loki
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model

from infra.conventions import APP_NAMESPACE, DATABASE_CLUSTER, LOKI_DATASOURCE_UID, MIGRATION
from infra.render.alloy_config import STREAM_LABELS
from infra.render.monitoring.dashboards.panels import Panel
from infra.render.workloads import upstream_pods as up

LOKI: Final = model.DataSourceRef(type_val="loki", uid=LOKI_DATASOURCE_UID)
# The API's pods: its Deployment's (a release's canary) and the promoted copy Flagger runs.
API_APPS: Final = (up.API, up.API_PRIMARY)
# An uvicorn error line, or the app's unhandled exception and the traceback that follows it.
API_ERROR_LINES: Final = r"^(ERROR:|CRITICAL:|Unhandled exception \[|Traceback )"


def cluster_pods(served: str) -> str:
    """The pods of the running cluster and, after a cut-over, of the one serving (both run until the
    old one is retired). CloudNativePG names its instances "<cluster>-<serial>" and its jobs
    "<instance>-<role>-..." (pkg/specs/pods.go, jobs.go:323 at 1.30.0); the pooler
    "<cluster>-pooler-rw-..." is not one, nor is a throwaway copy. Cluster names are DNS labels
    (settings/database.py), so the pattern needs no escape inside the selector's quotes."""
    clusters = "|".join(dict.fromkeys((DATABASE_CLUSTER, served)))
    return f"({clusters})-[0-9]+(-.+)?"


def selector(**matchers: str) -> str:
    """A stream selector of the collector's labels; a value starting with "~" is a regex match."""
    unknown = set(matchers) - set(STREAM_LABELS)
    if unknown:
        raise ValueError(f"no stream carries {sorted(unknown)}: the collector sets {sorted(STREAM_LABELS)}")
    parts = [
        f'{label}=~"{value[1:]}"' if value.startswith("~") else f'{label}="{value}"'
        for label, value in matchers.items()
    ]
    return "{" + ", ".join(parts) + "}"


def log_panel(title: str, expr: str, description: str, width: int = 8) -> logs.Panel:
    query = loki.Dataquery().expr(expr).ref_id("A").datasource(LOKI).max_lines(500)
    return (
        logs.Panel()
        .title(title)
        .description(description)
        .datasource(LOKI)
        .with_target(query)
        .show_time(True)
        .wrap_log_message(True)
        .enable_log_details(True)
        .sort_order(common.LogsSortOrder.DESCENDING)
        .height(10)
        .span(width)
    )


def log_panels(served: str) -> list[Panel]:
    api = selector(namespace=APP_NAMESPACE, app="~" + "|".join(API_APPS))
    # A raw string (backquoted): the regex as it is.
    errors = f"{api} |~ `{API_ERROR_LINES}`"
    return [
        log_panel(
            "API errors",
            errors,
            "uvicorn's ERROR lines and the app's unhandled exceptions with their tracebacks, "
            "from the promoted pods and a release's canary.",
        ),
        log_panel(
            "Migration Job",
            selector(namespace=APP_NAMESPACE, app=MIGRATION),
            "Every line of the release's migration Job: its wait for the backup and alembic's upgrade.",
        ),
        log_panel(
            "CloudNativePG: the database cluster",
            selector(namespace=APP_NAMESPACE, app=up.CNPG_DATABASE[up.NAME], pod="~" + cluster_pods(served)),
            "The cluster's instances (PostgreSQL's and the instance manager's lines) and their jobs.",
        ),
    ]
