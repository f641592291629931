"""Every series a rule or a panel reads comes from a source the stack deploys.

Each rule expression and panel query is parsed by promql-parser (a port of
Prometheus's own parser); every vector selector in it must name a series of
``tests/infra/render/monitoring/sources.py`` (the app's only where the app contract
marks them emitted) or a series the stack's own recording rules record, and
its label matchers must be labels that series carries (its own or its
target's).

The instrumentation switch: with a group turned on, its rules read app
metrics the contract marks never set, which have no source here, so the
check fails until the contract says they are emitted (and the settings refuse
the switch before that: tests/infra/settings/test_monitoring.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import promql_parser as pp
import pytest

from infra.app_contract import METRICS
from infra.render.monitoring.bundle import MonitoringArtifacts
from infra.render.monitoring.rules import Alert
from infra.settings.monitoring import INSTRUMENTATION_GROUPS, INSTRUMENTATION_METRICS
from tests.conftest import STACKS
from tests.infra.render.monitoring.fixtures import INSTRUMENTED, Written
from tests.infra.render.monitoring.sources import Series, Source, catalogue


@dataclass(frozen=True)
class Read:
    where: str
    name: str | None
    labels: tuple[str, ...]


def queries(artifacts: MonitoringArtifacts) -> Iterator[tuple[str, str]]:
    """(where, PromQL) of every rule and every Prometheus panel's target (logs panels ask Loki in
    LogQL, and name the collector's labels only: dashboards/test_logs.py)."""
    for rule_file in artifacts.rule_files:
        for group in rule_file.groups:
            for rule in group.rules:
                yield f"{rule_file.name}: {rule.name if isinstance(rule, Alert) else rule.record}", rule.expr
    for uid, dashboard in artifacts.dashboards.items():
        for panel in (p for p in dashboard["panels"] if p.get("type") != "logs"):
            for target in panel.get("targets", []):
                yield f"{uid}: {panel['title']}", target["expr"]


def series_read(where: str, expr: str) -> list[Read]:
    """Every vector selector of ``expr``, as Prometheus's grammar parses it."""
    found: list[Read] = []

    def visit(node: pp.Expr) -> None:
        if isinstance(node, pp.VectorSelector):
            matchers = node.matchers.matchers
            name = node.name or next((m.value for m in matchers if m.name == "__name__"), None)
            found.append(Read(where, name, tuple(m.name for m in matchers if m.name != "__name__")))

    pp.walk(pp.parse(expr), visit)
    return found


def recorded(artifacts: MonitoringArtifacts) -> frozenset[str]:
    return frozenset(r.record for rule_file in artifacts.rule_files for r in rule_file.recordings)


@dataclass(frozen=True)
class Check:
    reads: tuple[Read, ...]
    # Series names no source exports, and matchers on labels a series cannot carry.
    unsourced: tuple[Read, ...]
    bad_labels: tuple[tuple[Read, str], ...]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(r.name for r in self.reads if r.name)


def check(artifacts: MonitoringArtifacts, sources: tuple[Source, ...]) -> Check:
    exported: dict[str, tuple[Series, Source]] = {s.name: (s, src) for src in sources for s in src.series}
    own = recorded(artifacts)
    reads = tuple(r for where, expr in queries(artifacts) for r in series_read(where, expr))
    unsourced, bad_labels = [], []
    for read in reads:
        if read.name in own:
            continue
        if read.name is None or read.name not in exported:
            unsourced.append(read)
            continue
        series, source = exported[read.name]
        carried = source.stored_labels(series)
        if carried is None:
            continue
        bad_labels += [(read, label) for label in read.labels if label not in carried]
    return Check(reads, tuple(unsourced), tuple(bad_labels))


def _report(result: Check) -> str:
    lines = [f"{r.where}: {r.name} (no source)" for r in result.unsourced]
    lines += [
        f"{r.where}: {r.name}{{{label}=...}} (the series has no label {label})"
        for r, label in result.bad_labels
    ]
    return "\n".join(lines)


@pytest.mark.parametrize("stack", STACKS)
def test_every_series_a_rule_or_panel_reads_has_a_source(
    written: Callable[[str], Written], stack: str, capsys: pytest.CaptureFixture[str]
) -> None:
    artifacts = written(stack).artifacts
    sources = catalogue()
    result = check(artifacts, sources)
    assert not result.unsourced, _report(result)
    assert not result.bad_labels, _report(result)
    own = recorded(artifacts)
    read_sources = {src.name for src in sources for s in src.series if s.name in result.names}
    with capsys.disabled():
        print(
            f"\n[{stack}] series-source check: {len(result.names)} series names "
            f"({len(result.names - own)} exported, {len(result.names & own)} recorded by the stack) "
            f"in {len(result.reads)} selectors of {len(list(queries(artifacts)))} rule expressions and "
            f"panel queries, from {len(read_sources)} of {len(sources)} catalogued sources "
            f"({', '.join(sorted(read_sources))})"
        )
    # Every catalogued source feeds something, or it does not belong in the catalogue.
    assert read_sources == {src.name for src in sources}


def test_the_check_catches_a_series_without_a_source_and_a_label_it_cannot_carry(
    written: Callable[[str], Written],
) -> None:
    artifacts = written("prod").artifacts
    broken = MonitoringArtifacts(
        artifacts.rule_files,
        artifacts.alertmanager,
        {
            "broken": {
                "panels": [
                    {"title": "never set", "targets": [{"expr": "sum(samokoder_llm_requests_total)"}]},
                    {
                        "title": "wrong label",
                        "targets": [
                            {
                                "expr": 'nginx_ingress_controller_requests{exported_namespace="samokoder"}'
                                ' or redis_up{key="x"}'
                            }
                        ],
                    },
                ]
            }
        },
    )
    result = check(broken, catalogue())
    assert [r.name for r in result.unsourced] == ["samokoder_llm_requests_total"]
    # The request's own namespace is stored as exported_namespace (the chart leaves honorLabels
    # unset); redis_exporter's series carry no key but redis_key_size's.
    assert [(r.name, label) for r, label in result.bad_labels] == [("redis_up", "key")]


def _series_of(metric_names: tuple[str, ...]) -> frozenset[str]:
    names = set(metric_names)
    histograms = {m.name for m in METRICS if m.type == "histogram" and m.name in names}
    return frozenset(names | {f"{h}_{suffix}" for h in histograms for suffix in ("bucket", "sum", "count")})


def test_a_group_switched_on_fails_the_check_until_the_contract_marks_its_metrics_emitted(
    written: Callable[[str], Written],
) -> None:
    artifacts = written(INSTRUMENTED).artifacts
    gaps = {group: _series_of(INSTRUMENTATION_METRICS[group]) for group in INSTRUMENTATION_GROUPS}
    unsourced = {r.name for r in check(artifacts, catalogue()).unsourced}
    # Each group's switch brings in series the app never sets, and nothing else is unsourced.
    for group, series in gaps.items():
        assert unsourced & series, f"{group}: its rules and panels read none of its metrics"
    assert unsourced <= frozenset().union(*gaps.values())
    # Once the contract marks them emitted, every series has its source.
    emitted = frozenset(m.name for m in METRICS if m.emitted).union(
        *(INSTRUMENTATION_METRICS[group] for group in INSTRUMENTATION_GROUPS)
    )
    result = check(artifacts, catalogue(emitted))
    assert not result.unsourced, _report(result)
    assert not result.bad_labels, _report(result)
