"""Each stack's monitoring artifacts, and the real tools' runs over them that start with the session.

``written`` generates and writes a stack's artifacts once per session. The
promtool unit tests, the real Prometheus behind the dashboards and the real
Alertmanager's quiet hours run in the background threads (tests/conftest.py)
as soon as the session starts, side by side with the rest of the suite; the
tests read their futures and assert.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from infra.render.monitoring.alertmanager import alertmanager_config
from infra.render.monitoring.bundle import MonitoringArtifacts, generate
from infra.render.monitoring.render import write_artifacts
from infra.render.monitoring.rules import all_alerts
from infra.settings.loader import load_settings
from infra.settings.monitoring import INSTRUMENTATION_GROUPS, AlertingProfile, Instrumentation, QuietHours
from infra.settings.stack import StackSettings
from tests.conftest import STACKS, stack_file_values
from tests.infra.render.monitoring.alertmanager_harness import (
    TelegramRecorder,
    for_loopback,
    running_alertmanager,
    wait_until,
)
from tests.infra.render.monitoring.prometheus_harness import running_prometheus
from tests.infra.render.monitoring.promtool_suite import (
    PromtoolFile,
    PromtoolRun,
    run_promtool_tests,
    write_test_files,
)
from tests.infra.render.monitoring.scenarios import (
    HEALTHY,
    HEALTHY_PLATFORM,
    AlertKey,
    Scenario,
    all_scenarios,
)
from tests.infra.render.monitoring.workload import Phase
from tests.processes import settle


@dataclass(frozen=True)
class Written:
    settings: StackSettings
    artifacts: MonitoringArtifacts
    root: Path

    @property
    def rule_paths(self) -> list[Path]:
        return sorted((self.root / "rules").glob("*.yaml"))

    @property
    def alertmanager_path(self) -> Path:
        return self.root / "alertmanager.yml"

    @property
    def alert_keys(self) -> frozenset[AlertKey]:
        return frozenset((a.name, a.severity) for a in all_alerts(self.artifacts.rule_files))


# Prod with every instrumentation group on, as it will run once the app sets those metrics:
# its rules and panels are checked by promtool and Prometheus like the stacks' own.
INSTRUMENTED = "prod-instrumented"
VARIANTS = [*STACKS, INSTRUMENTED]


def every_group_on(settings: StackSettings) -> StackSettings:
    """The stack with every instrumentation group on, past the settings' refusal (the app sets none)."""
    on = Instrumentation().model_copy(update=dict.fromkeys(INSTRUMENTATION_GROUPS, True))
    monitoring = settings.monitoring.model_copy(update={"instrumentation": on})
    return settings.model_copy(update={"monitoring": monitoring})


def group_alerts(w: Written, prod: Written) -> frozenset[AlertKey]:
    """The alerts only the instrumented variant has: those of the instrumentation groups."""
    return w.alert_keys - prod.alert_keys


def scenarios_of(stack: str, written: Callable[[str], Written]) -> list[Scenario]:
    """A stack's scenarios; the instrumented variant runs the healthy platform and its groups' own."""
    w = written(stack)
    scenarios = all_scenarios(w.settings, w.alert_keys)
    if stack != INSTRUMENTED:
        return scenarios
    names = {name for name, _ in group_alerts(w, written("prod"))}
    return [
        s
        for s in scenarios
        if s.name == HEALTHY_PLATFORM or any(key[0] in names for c in s.checks for key in c.firing | c.quiet)
    ]


@pytest.fixture(scope="session")
def written(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Written]:
    cache: dict[str, Written] = {}

    def get(stack: str) -> Written:
        if stack not in cache:
            if stack == INSTRUMENTED:
                settings = every_group_on(load_settings("prod", stack_file_values("prod"), offline=True))
            else:
                settings = load_settings(stack, stack_file_values(stack), offline=True)
            artifacts = generate(settings)
            root = tmp_path_factory.mktemp(f"monitoring-{stack}")
            write_artifacts(artifacts, root)
            cache[stack] = Written(settings, artifacts, root)
        return cache[stack]

    return get


# --- promtool's unit tests ------------------------------------------------------

# A promtool run takes about 7 ms per evaluation of every rule: files of at
# most this many evaluations take 2 to 4 s, and as many run at a time as cores.
EVALUATIONS_PER_FILE = 500


@pytest.fixture(scope="session")
def promtool_runs(
    written: Callable[[str], Written],
    real_tools: ThreadPoolExecutor,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, list[Future[PromtoolRun]]]]:
    """Every scenario of each stack, in files that promtool runs side by side, the longest first."""
    files: list[tuple[str, PromtoolFile]] = []
    for stack in VARIANTS:
        w = written(stack)
        out = tmp_path_factory.mktemp(f"promtool-{stack}")
        scenarios = scenarios_of(stack, written)
        files += [(stack, f) for f in write_test_files(scenarios, w.rule_paths, out, EVALUATIONS_PER_FILE)]
    runs: dict[str, list[Future[PromtoolRun]]] = {stack: [] for stack in VARIANTS}
    for stack, file in sorted(files, key=lambda pair: -pair[1].evaluations):
        runs[stack].append(real_tools.submit(run_promtool_tests, file))
    try:
        yield runs
    finally:
        settle(future for futures in runs.values() for future in futures)


# --- a real Prometheus behind the dashboards ------------------------------------------

# Some of everything, so that every panel has something to show.
BUSY = HEALTHY.but(
    error_share=0.02,
    slow_share=0.1,
    llm_error_share=0.05,
    rate_limited_share=0.01,
    # A release under way: the canary beside stable, with errors and slow requests of its own.
    canary_share=0.1,
    canary_error_share=0.05,
    canary_slow_share=0.2,
)


def dashboard_queries(w: Written) -> set[tuple[str, str, str]]:
    """(dashboard uid, panel title, expression) of every Prometheus panel's target (logs panels ask Loki)."""
    return {
        (uid, panel["title"], target["expr"])
        for uid, dashboard in w.artifacts.dashboards.items()
        for panel in dashboard["panels"]
        if panel.get("type") != "logs"
        for target in panel.get("targets", [])
    }


def _answer_every_query(w: Written, workdir: Path) -> dict[tuple[str, str, str], dict[str, Any]]:
    busy = BUSY.but(instrumented=w.settings.monitoring.instrumentation.enabled)
    with running_prometheus(w.rule_paths, [Phase(180, busy)], workdir) as prometheus:
        return {key: prometheus.query(key[2]) for key in sorted(dashboard_queries(w))}


@pytest.fixture(scope="session")
def dashboard_answers(
    written: Callable[[str], Written],
    real_tools: ThreadPoolExecutor,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Future[dict[tuple[str, str, str], dict[str, Any]]]]]:
    """Each stack's dashboard queries, asked of a Prometheus holding three busy hours, rules loaded."""
    answers = {
        stack: real_tools.submit(
            _answer_every_query, written(stack), tmp_path_factory.mktemp(f"prom-{stack}")
        )
        for stack in VARIANTS
    }
    try:
        yield answers
    finally:
        settle(answers.values())


# --- a real Alertmanager in and out of quiet hours --------------------------------


@dataclass(frozen=True)
class QuietHoursRun:
    quiet_hours: QuietHours
    # Every message the Telegram stand-in received.
    messages: tuple[str, ...]

    def received(self, text: str) -> bool:
        return any(text in message for message in self.messages)


def _clock(moment: datetime) -> str:
    return moment.strftime("%H:%M")


def quiet_hours_around_now(around_now: bool, timezone: str) -> QuietHours:
    """Quiet hours that hold (or exclude) the current minute in the stack's time zone."""
    now = datetime.now(ZoneInfo(timezone))
    if around_now:
        return QuietHours(start=_clock(now - timedelta(hours=1)), end=_clock(now - timedelta(hours=2)))
    return QuietHours(start=_clock(now + timedelta(hours=1)), end=_clock(now - timedelta(hours=1)))


def _post_info_and_warning(alerting: AlertingProfile, quiet_now: bool, workdir: Path) -> QuietHoursRun:
    """An info and a warning alert, posted together to the stack's routes with quiet hours now (or not)."""
    quiet = quiet_hours_around_now(quiet_now, alerting.timezone)
    config = alertmanager_config(alerting.model_copy(update={"quiet_hours": quiet}))
    recorder = TelegramRecorder()
    token = workdir / "token"
    token.write_text("123:test")
    try:
        with running_alertmanager(for_loopback(config, recorder.url, token), workdir) as am:
            am.post(
                {
                    "alertname": "NoProjectsCreated",
                    "severity": "info",
                    "service": "api",
                    "namespace": "samokoder",
                },
                # Warnings are never muted: once one arrives, the info alert had its chance.
                {
                    "alertname": "ApiLatencyHigh",
                    "severity": "warning",
                    "service": "api",
                    "namespace": "samokoder",
                },
            )
            if wait_until(lambda: recorder.received("ApiLatencyHigh"), 20):
                wait_until(lambda: recorder.received("NoProjectsCreated"), 5)
    finally:
        recorder.close()
    return QuietHoursRun(quiet, tuple(recorder.messages))


@pytest.fixture(scope="session")
def alertmanager_runs(
    written: Callable[[str], Written],
    real_tools: ThreadPoolExecutor,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[bool, Future[QuietHoursRun]]]:
    """Staging's routes in a real Alertmanager, inside quiet hours (True) and outside them (False)."""
    alerting = written("staging").settings.alerting
    runs = {
        quiet_now: real_tools.submit(
            _post_info_and_warning, alerting, quiet_now, tmp_path_factory.mktemp("alertmanager-quiet")
        )
        for quiet_now in (True, False)
    }
    try:
        yield runs
    finally:
        settle(runs.values())
