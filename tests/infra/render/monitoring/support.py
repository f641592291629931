"""The project's stack settings, changed where a test says, and checks every dashboard must pass."""

from __future__ import annotations

from typing import Any

from infra.conventions import LOKI_DATASOURCE_UID
from infra.settings.loader import read_profile, validate_settings
from infra.settings.stack import StackSettings
from tests.conftest import stack_file_values, with_changes
from tests.infra.render.monitoring.fixtures import every_group_on

LOKI = {"type": "loki", "uid": LOKI_DATASOURCE_UID}


def stack_settings(
    stack: str = "prod",
    changes: dict[str, Any] | None = None,
    *,
    instrumented: bool = False,
    cut_over_to: str | None = None,
) -> StackSettings:
    """`stack`'s settings, its profile changed at dotted paths; every instrumentation group on if asked;
    with ``cut_over_to``, the app served from that restored cluster (samokoder:restore and cut_over)."""
    profile = with_changes(read_profile(stack), changes or {})
    values = stack_file_values(stack)
    if cut_over_to is not None:
        values |= {"restore": {"into": cut_over_to}, "cut_over": {"to": cut_over_to}}
    settings = validate_settings(stack, profile, values, offline=True)
    return every_group_on(settings) if instrumented else settings


def content_panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """The panels that show data: every panel but the rows."""
    return [panel for panel in dashboard["panels"] if panel["type"] != "row"]


def assert_well_formed(dashboard: dict[str, Any]) -> None:
    """Unique titles, and every panel reads Prometheus through the variable, with a query and a unit;
    a logs panel reads Loki's data source, with a query."""
    panels = content_panels(dashboard)
    titles = [panel["title"] for panel in panels]
    assert len(titles) == len(set(titles)), titles
    for panel in panels:
        assert panel["targets"], panel["title"]
        assert all(target["expr"] for target in panel["targets"]), panel["title"]
        if panel["type"] == "logs":
            assert panel["datasource"] == LOKI, panel["title"]
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["fieldConfig"]["defaults"]["unit"], panel["title"]


def steps(panel: dict[str, Any]) -> list[tuple[float | None, str]]:
    """A panel's colour steps as (value, colour), lowest first."""
    defaults = panel["fieldConfig"]["defaults"]
    return [(step["value"], step["color"]) for step in defaults["thresholds"]["steps"]]


def panel(dashboard: dict[str, Any], title: str) -> dict[str, Any]:
    (found,) = (p for p in dashboard["panels"] if p["title"] == title and p["type"] != "row")
    result: dict[str, Any] = found
    return result


def exprs(panel: dict[str, Any]) -> list[str]:
    return [target["expr"] for target in panel["targets"]]
