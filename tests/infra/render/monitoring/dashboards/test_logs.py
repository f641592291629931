"""The log panels beside the golden signals: Loki's data source, selectors of the collector's labels only."""

from __future__ import annotations

import re
from typing import Any

import pytest

from infra.conventions import APP_NAMESPACE, DATABASE_CLUSTER, LOKI_DATASOURCE_UID, MIGRATION
from infra.render.alloy_config import STREAM_LABELS
from infra.render.monitoring.dashboards import logs
from infra.render.monitoring.dashboards.golden_signals import golden_signals
from infra.render.monitoring.dashboards.panels import to_json
from infra.render.workloads import drill, rehearsal
from infra.render.workloads import upstream_pods as up
from infra.settings.monitoring import INSTRUMENTATION_GROUPS
from tests.infra.render.monitoring.support import stack_settings

# A LogQL stream selector's matchers: label, operator, quoted value.
MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)')
TITLES = ("API errors", "Migration Job", "CloudNativePG: the database cluster")


def log_panels(dashboard: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["title"]: p for p in dashboard["panels"] if p["type"] == "logs"}


def stream_selector(expr: str) -> dict[str, tuple[str, str]]:
    """The matchers of the expression's stream selector, ``{...}``, which must come first."""
    match = re.match(r"\{([^}]*)\}", expr)
    assert match, expr
    body, found = match[1], {}
    while body:
        matcher = MATCHER.match(body)
        assert matcher, f"unreadable matcher in {expr!r}: {body!r}"
        found[matcher[1]] = (matcher[2], matcher[3])
        body = body[matcher.end() :]
    return found


@pytest.fixture(scope="module", params=[frozenset(), frozenset(INSTRUMENTATION_GROUPS)])
def dashboard(request: pytest.FixtureRequest) -> dict[str, Any]:
    return to_json(golden_signals(stack_settings("prod").thresholds, request.param, DATABASE_CLUSTER))


def test_the_golden_signals_show_the_three_logs_in_their_own_row(dashboard: dict[str, Any]) -> None:
    assert tuple(log_panels(dashboard)) == TITLES
    titles = [p["title"] for p in dashboard["panels"]]
    assert titles[titles.index("Logs") + 1 : titles.index("Logs") + 4] == list(TITLES)


def test_each_log_panel_reads_the_loki_data_source(dashboard: dict[str, Any]) -> None:
    loki = {"type": "loki", "uid": LOKI_DATASOURCE_UID}
    for title, panel in log_panels(dashboard).items():
        assert panel["datasource"] == loki, title
        assert [t["datasource"] for t in panel["targets"]] == [loki], title


def test_each_selector_names_only_labels_the_collector_sets(dashboard: dict[str, Any]) -> None:
    for title, panel in log_panels(dashboard).items():
        (target,) = panel["targets"]
        matchers = stream_selector(target["expr"])
        assert matchers, title
        assert set(matchers) <= set(STREAM_LABELS), (title, matchers)
        # Every panel is kept to the app's namespace, where the three run.
        assert matchers["namespace"] == ("=", APP_NAMESPACE), title


def test_the_selectors_pick_the_pods_they_are_named_after(dashboard: dict[str, Any]) -> None:
    panels = log_panels(dashboard)
    api = stream_selector(panels["API errors"]["targets"][0]["expr"])
    assert api["app"][0] == "=~"
    assert {name for name in (up.API, up.API_PRIMARY, up.WORKER) if re.fullmatch(api["app"][1], name)} == {
        up.API,
        up.API_PRIMARY,
    }
    assert stream_selector(panels["Migration Job"]["targets"][0]["expr"])["app"] == ("=", MIGRATION)
    database = stream_selector(panels["CloudNativePG: the database cluster"]["targets"][0]["expr"])
    assert database["app"] == ("=", up.CNPG_DATABASE[up.NAME])
    pods = database["pod"][1]
    assert re.fullmatch(pods, "samokoder-db-1")
    assert re.fullmatch(pods, "samokoder-db-2-join-x7k2p")
    assert not re.fullmatch(pods, up.POOLER + "-5d8f7-abcde")
    assert not re.fullmatch(pods, "samokoder-db-restore-20260101-1")


def test_after_a_cut_over_the_database_logs_are_the_served_and_the_running_clusters() -> None:
    served = "samokoder-db-restore-20261126-0630"
    dashboard = to_json(golden_signals(stack_settings("prod").thresholds, frozenset(), served))
    panel = log_panels(dashboard)["CloudNativePG: the database cluster"]
    pods = stream_selector(panel["targets"][0]["expr"])["pod"][1]
    assert re.fullmatch(pods, f"{served}-1")
    assert re.fullmatch(pods, f"{served}-2-join-x7k2p")
    assert re.fullmatch(pods, "samokoder-db-1")
    for copy in (rehearsal.copy_name("0f3c", "run1"), drill.copy_name("run1")):
        assert not re.fullmatch(pods, f"{copy}-1")


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("ERROR:    Exception in ASGI application", True),
        ("Unhandled exception [0b6f1a52-1c1e-4b8e-9d7e-0a1b2c3d4e5f]: boom", True),
        ("Traceback (most recent call last):", True),
        ('INFO:     10.0.0.7:51234 - "GET /health HTTP/1.1" 200 OK', False),
    ],
)
def test_the_api_error_filter_keeps_errors_and_drops_the_rest(line: str, error: bool) -> None:
    assert bool(re.search(logs.API_ERROR_LINES, line)) is error


def test_a_selector_of_another_label_is_refused() -> None:
    with pytest.raises(ValueError, match="no stream carries"):
        logs.selector(namespace=APP_NAMESPACE, job="samokoder-api")
