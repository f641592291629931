"""Panel building blocks shared by the dashboards (grafana-foundation-sdk, Grafana 11)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import gauge, prometheus, stat, timeseries
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model

from infra.render.monitoring.promql import sum_rate
from infra.render.monitoring.rules import compared_levels
from infra.settings.monitoring import DurationThreshold, Threshold

DATASOURCE = model.DataSourceRef(type_val="prometheus", uid="${datasource}")
GREEN, YELLOW, RED = "green", "yellow", "red"
Target = tuple[str, str]
Panel = cogbuilder.Builder[model.Panel]


def query(expr: str, legend: str = "", ref: str = "A") -> prometheus.Dataquery:
    return (
        prometheus.Dataquery().expr(expr).legend_format(legend or "__auto").ref_id(ref).datasource(DATASOURCE)
    )


def steps(*levels: tuple[float | None, str]) -> db.ThresholdsConfig:
    """Colour steps, lowest first; the first level is None (from minus infinity)."""
    return (
        db.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps([model.Threshold(value=value, color=color) for value, color in levels])
    )


def rising(warning: float, critical: float) -> db.ThresholdsConfig:
    """Green below warning, yellow up to critical, red above: more is worse."""
    return steps((None, GREEN), (warning, YELLOW), (critical, RED))


def falling(critical: float, warning: float) -> db.ThresholdsConfig:
    """Red below critical, yellow up to warning, green above: less is worse."""
    return steps((None, RED), (critical, YELLOW), (warning, GREEN))


def alert_levels(threshold: Threshold | DurationThreshold) -> db.ThresholdsConfig:
    """Coloured at the levels the threshold's alerts compare against (a percent as a ratio)."""
    return rising(*compared_levels(threshold))


def rate_by(series: str, *labels: str) -> Target:
    """The per-second rate of ``series`` summed by ``labels``, one legend entry per combination."""
    return sum_rate(series, "5m", labels), " ".join(f"{{{{{label}}}}}" for label in labels)


def stat_panel(
    title: str, expr: str, unit: str, thresholds: db.ThresholdsConfig, width: int = 6
) -> stat.Panel:
    return (
        stat.Panel()
        .title(title)
        .datasource(DATASOURCE)
        .with_target(query(expr))
        .unit(unit)
        .thresholds(thresholds)
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .height(5)
        .span(width)
    )


def gauge_panel(
    title: str, expr: str, unit: str, thresholds: db.ThresholdsConfig, width: int = 6
) -> gauge.Panel:
    return (
        gauge.Panel()
        .title(title)
        .datasource(DATASOURCE)
        .with_target(query(expr))
        .unit(unit)
        .min(0)
        .max(1)
        .thresholds(thresholds)
        .height(6)
        .span(width)
    )


def graph(title: str, targets: Sequence[Target], unit: str, width: int = 12) -> timeseries.Panel:
    panel = timeseries.Panel().title(title).datasource(DATASOURCE).unit(unit).height(8).span(width)
    for index, (expr, legend) in enumerate(targets):
        panel = panel.with_target(query(expr, legend, chr(ord("A") + index)))
    return panel


def new_dashboard(
    uid: str, title: str, description: str, rows: Mapping[str, Iterable[Panel]] | None = None
) -> db.Dashboard:
    """The dashboard with ``rows``' panels in order, each under a row of its title ("": no row)."""
    dashboard = (
        db.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["samokoder"])
        .refresh("30s")
        .time("now-6h", "now")
        .timezone("browser")
        .with_variable(db.DatasourceVariable("datasource").label("Data source").type("prometheus"))
    )
    for row, panels in (rows or {}).items():
        if row:
            dashboard = dashboard.with_row(db.Row(row))
        for panel in panels:
            dashboard = dashboard.with_panel(panel)
    return dashboard


def to_json(dashboard: db.Dashboard) -> dict[str, Any]:
    """The dashboard model as Grafana stores it (plain JSON types)."""
    data: dict[str, Any] = json.loads(json.dumps(dashboard.build(), cls=JSONEncoder))
    return data
