"""The monitoring reference: alerts, rule files, dashboards and Alertmanager's routing of each stack.

Read from what the monitoring component deploys (the synthesis's artifacts,
``infra/render/monitoring/``), never from a list kept by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infra.ops.reference.markdown import DASH, code, table
from infra.ops.reference.sources import Row, Sources, per_stack, stacks
from infra.ops.synth.runner import Synthesis
from infra.render.monitoring.bundle import MonitoringArtifacts
from infra.render.monitoring.slo import BURN_WINDOWS


def _alert_rows(artifacts: MonitoringArtifacts) -> list[Row]:
    return [
        (code(alert.name), alert.severity, alert.for_, code(rule_file.name), alert.summary)
        for rule_file in artifacts.rule_files
        for alert in rule_file.alerts
    ]


def _rule_file_rows(artifacts: MonitoringArtifacts) -> list[Row]:
    return [(code(f.name), str(len(f.alerts)), str(len(f.recordings))) for f in artifacts.rule_files]


def _dashboard_rows(artifacts: MonitoringArtifacts) -> list[Row]:
    rows: list[Row] = []
    for uid, dashboard in artifacts.dashboards.items():
        panels = dashboard.get("panels", [])
        sections = [p["title"] for p in panels if p.get("type") == "row"]
        drawn = sum(1 for p in panels if p.get("type") != "row")
        rows.append((code(uid), dashboard["title"], ", ".join(sections), str(drawn)))
    return rows


def _integrations(receiver: dict[str, Any]) -> str:
    kinds = [key.removesuffix("_configs") for key in receiver if key.endswith("_configs")]
    return ", ".join(kinds) or "nothing (dropped)"


def _route_rows(artifacts: MonitoringArtifacts) -> list[Row]:
    # First match wins: what each route sends to, how fast, how often, when muted.
    config = artifacts.alertmanager
    receivers = {r["name"]: r for r in config["receivers"]}
    top = config["route"]
    return [
        (
            ", ".join(code(m) for m in route.get("matchers", [])),
            code(route["receiver"]),
            _integrations(receivers[route["receiver"]]),
            route.get("group_wait", top["group_wait"]),
            route.get("repeat_interval", top["repeat_interval"]),
            ", ".join(route.get("mute_time_intervals", [])) or "never",
        )
        for route in [*top.get("routes", []), {**top, "matchers": ["anything else"]}]
    ]


def _inhibition_rows(artifacts: MonitoringArtifacts) -> list[Row]:
    return [
        (
            ", ".join(code(m) for m in rule["source_matchers"]),
            ", ".join(code(m) for m in rule["target_matchers"]),
            ", ".join(rule.get("equal", [])),
        )
        for rule in artifacts.alertmanager.get("inhibit_rules", [])
    ]


def _interval_rows(artifacts: MonitoringArtifacts) -> list[Row]:
    rows: list[Row] = []
    for interval in artifacts.alertmanager.get("time_intervals", []):
        for spec in interval["time_intervals"]:
            times = ", ".join(f"{t['start_time']}{DASH}{t['end_time']}" for t in spec.get("times", []))
            rows.append((code(interval["name"]), times, spec.get("location", "UTC")))
    return rows


def _monitoring(rows: Callable[[MonitoringArtifacts], list[Row]]) -> Callable[[Synthesis], list[Row]]:
    return lambda synthesis: rows(synthesis.monitoring)


alerts_table = per_stack(("alert", "severity", "for", "rule file", "summary"), _monitoring(_alert_rows))
rule_files_table = per_stack(("rule file", "alerts", "recording rules"), _monitoring(_rule_file_rows))
dashboards_table = per_stack(("uid", "title", "rows", "panels"), _monitoring(_dashboard_rows))
routes_table = per_stack(
    ("alerts matching", "receiver", "sends with", "group wait", "repeat", "muted"), _monitoring(_route_rows)
)
inhibitions_table = per_stack(
    ("an alert matching", "mutes those matching", "with the same"), _monitoring(_inhibition_rows)
)
time_intervals_table = per_stack(("interval", "times", "time zone"), _monitoring(_interval_rows))


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
