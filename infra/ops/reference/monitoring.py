"""The monitoring reference: alerts, rule files, dashboards and Alertmanager's routing of each stack.

Read from what the monitoring component deploys (the synthesis's artifacts,
``infra/render/monitoring/``), never from a list kept by hand.
"""

from __future__ import annotations

from typing import Any

from infra.ops.reference.markdown import DASH, code, table
from infra.ops.reference.sources import Row, Sources, by_stack, stacks
from infra.render.monitoring.bundle import MonitoringArtifacts
from infra.render.monitoring.slo import BURN_WINDOWS


def _artifacts(sources: Sources) -> dict[str, MonitoringArtifacts]:
    return {stack: sources.synthesis(stack).monitoring for stack in stacks()}


def _alert_rows(artifacts: MonitoringArtifacts) -> list[Row]:
    return [
        (code(alert.name), alert.severity, alert.for_, code(rule_file.name), alert.summary)
        for rule_file in artifacts.rule_files
        for alert in rule_file.alerts
    ]


def alerts_table(sources: Sources) -> str:
    """Every alert rule, one row per name and severity, with the stacks that have it."""
    rows = by_stack({stack: _alert_rows(a) for stack, a in _artifacts(sources).items()})
    return table(("alert", "severity", "for", "rule file", "summary", "stacks"), rows)


def _rule_file_rows(artifacts: MonitoringArtifacts) -> list[Row]:
    return [(code(f.name), str(len(f.alerts)), str(len(f.recordings))) for f in artifacts.rule_files]


def rule_files_table(sources: Sources) -> str:
    rows = by_stack({stack: _rule_file_rows(a) for stack, a in _artifacts(sources).items()})
    return table(("rule file", "alerts", "recording rules", "stacks"), rows)


def _dashboard_rows(artifacts: MonitoringArtifacts) -> list[Row]:
    rows: list[Row] = []
    for uid, dashboard in artifacts.dashboards.items():
        panels = dashboard.get("panels", [])
        sections = [p["title"] for p in panels if p.get("type") == "row"]
        drawn = sum(1 for p in panels if p.get("type") != "row")
        rows.append((code(uid), dashboard["title"], ", ".join(sections), str(drawn)))
    return rows


def dashboards_table(sources: Sources) -> str:
    rows = by_stack({stack: _dashboard_rows(a) for stack, a in _artifacts(sources).items()})
    return table(("uid", "title", "rows", "panels", "stacks"), rows)


def _integrations(receiver: dict[str, Any]) -> str:
    kinds = [key.removesuffix("_configs") for key in receiver if key.endswith("_configs")]
    return ", ".join(kinds) or "nothing (dropped)"


def _route_rows(config: dict[str, Any]) -> list[Row]:
    receivers = {r["name"]: r for r in config["receivers"]}
    top = config["route"]
    rows: list[Row] = []
    for route in [*top.get("routes", []), {**top, "matchers": ["anything else"]}]:
        rows.append(
            (
                ", ".join(code(m) for m in route.get("matchers", [])),
                code(route["receiver"]),
                _integrations(receivers[route["receiver"]]),
                route.get("group_wait", top["group_wait"]),
                route.get("repeat_interval", top["repeat_interval"]),
                ", ".join(route.get("mute_time_intervals", [])) or "never",
            )
        )
    return rows


def routes_table(sources: Sources) -> str:
    """Alertmanager's routes, first match wins: what each sends to, how fast, how often, when muted."""
    rows = by_stack({stack: _route_rows(a.alertmanager) for stack, a in _artifacts(sources).items()})
    headers = ("alerts matching", "receiver", "sends with", "group wait", "repeat", "muted", "stacks")
    return table(headers, rows)


def _inhibition_rows(config: dict[str, Any]) -> list[Row]:
    return [
        (
            ", ".join(code(m) for m in rule["source_matchers"]),
            ", ".join(code(m) for m in rule["target_matchers"]),
            ", ".join(rule.get("equal", [])),
        )
        for rule in config.get("inhibit_rules", [])
    ]


def inhibitions_table(sources: Sources) -> str:
    rows = by_stack({stack: _inhibition_rows(a.alertmanager) for stack, a in _artifacts(sources).items()})
    return table(("an alert matching", "mutes those matching", "with the same", "stacks"), rows)


def _interval_rows(config: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for interval in config.get("time_intervals", []):
        for spec in interval["time_intervals"]:
            times = ", ".join(f"{t['start_time']}{DASH}{t['end_time']}" for t in spec.get("times", []))
            rows.append((code(interval["name"]), times, spec.get("location", "UTC")))
    return rows


def time_intervals_table(sources: Sources) -> str:
    rows = by_stack({stack: _interval_rows(a.alertmanager) for stack, a in _artifacts(sources).items()})
    return table(("interval", "times", "time zone", "stacks"), rows)


def objectives_table(sources: Sources) -> str:
    """Each stack's SLOs and the error budget left at which its budget alerts fire."""
    rows = []
    for stack in stacks():
        settings = sources.synthesis(stack).settings
        slo, budget = settings.slo, settings.thresholds.error_budget
        rows.append(
            (
                stack,
                f"{slo.availability_percent:g} %",
                f"{slo.latency_percent:g} % under {slo.latency_threshold_seconds:g} s",
                f"{slo.window_days} days",
                f"{budget.warning:g} % / {budget.critical:g} %",
            )
        )
    headers = ("stack", "availability (not 5xx)", "latency", "period", "budget left: warning / critical")
    return table(headers, rows)


def burn_rates_table(_: Sources) -> str:
    """The multi-window, multi-burn-rate alerts every SLO gets (infra/render/monitoring/slo.py)."""
    rows = [(w.severity, w.long, w.short, f"{w.factor:g}") for w in BURN_WINDOWS]
    return table(("severity", "long window", "short window", "burn rate"), rows)
