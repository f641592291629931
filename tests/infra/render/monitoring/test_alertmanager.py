"""Alertmanager configuration, checked by amtool and by a real Alertmanager."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from infra.render.logs import log_rules
from infra.render.monitoring.alertmanager import SECRET_KEYS, SECRETS_DIR
from tests.conftest import STACKS
from tests.infra.render.monitoring.alertmanager_harness import (
    TelegramRecorder,
    for_loopback,
    running_alertmanager,
    wait_until,
)
from tests.infra.render.monitoring.fixtures import QuietHoursRun, Written
from tests.tools import tool


def amtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(tool("amtool")), *args], capture_output=True, text=True, check=False)


@pytest.mark.tool
@pytest.mark.parametrize("stack", STACKS)
def test_amtool_accepts_the_config(written: Callable[[str], Written], stack: str) -> None:
    result = amtool("check-config", str(written(stack).alertmanager_path))
    assert result.returncode == 0, result.stdout + result.stderr


# (labels of an alert, the receiver it must reach)
ROUTES = [
    ({"alertname": "ApiDown", "severity": "critical", "service": "api"}, "critical"),
    ({"alertname": "ApiLatencyHigh", "severity": "warning", "service": "api"}, "warning"),
    ({"alertname": "NoProjectsCreated", "severity": "info", "service": "api"}, "info"),
    ({"alertname": "Watchdog", "severity": "none"}, "watchdog"),
    ({"alertname": "InfoInhibitor", "severity": "none"}, "null"),
    ({"alertname": "KubePodCrashLooping", "severity": "warning", "namespace": "kube-system"}, "warning"),
    # No severity at all: still reaches people.
    ({"alertname": "Unlabelled"}, "warning"),
    # Loki's ruler sends its alerts to the same Alertmanager, labelled as it renders them.
    *(({"alertname": a.name, **a.render()["labels"]}, a.severity) for a in log_rules().alerts),
]


@pytest.mark.tool
@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize(("labels", "receiver"), ROUTES, ids=[r for _, r in ROUTES])
def test_each_severity_reaches_its_receiver(
    written: Callable[[str], Written], stack: str, labels: dict[str, str], receiver: str
) -> None:
    result = amtool(
        "config",
        "routes",
        "test",
        f"--config.file={written(stack).alertmanager_path}",
        f"--verify.receivers={receiver}",
        *(f"{k}={v}" for k, v in labels.items()),
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.tool
def test_a_wrong_expectation_fails_the_routes_test(written: Callable[[str], Written]) -> None:
    result = amtool(
        "config",
        "routes",
        "test",
        f"--config.file={written('prod').alertmanager_path}",
        "--verify.receivers=info",
        "severity=critical",
    )
    assert result.returncode != 0


def test_prod_critical_pages_on_every_channel(written: Callable[[str], Written]) -> None:
    (critical,) = [r for r in written("prod").artifacts.alertmanager["receivers"] if r["name"] == "critical"]
    assert {"telegram_configs", "email_configs", "pagerduty_configs"} <= set(critical)


def _walk(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


@pytest.mark.parametrize("stack", STACKS)
def test_credentials_are_read_from_mounted_files(written: Callable[[str], Written], stack: str) -> None:
    config = written(stack).artifacts.alertmanager
    inline = {"bot_token", "auth_password", "routing_key", "service_key", "url", "api_key", "password"}
    for receiver in config["receivers"]:
        assert not {key for key, _ in _walk(receiver)} & inline, receiver["name"]
    files = [value for key, value in _walk(config) if key.endswith("_file")]
    assert files
    assert {Path(f).parent for f in files} == {Path(SECRETS_DIR)}
    assert {Path(f).name for f in files} <= set(SECRET_KEYS)


@pytest.mark.tool
@pytest.mark.parametrize("quiet_now", [True, False], ids=["inside quiet hours", "outside quiet hours"])
def test_info_alerts_are_muted_in_quiet_hours_only(
    alertmanager_runs: dict[bool, Future[QuietHoursRun]], quiet_now: bool
) -> None:
    # An info and a warning alert posted together to staging's routes in a real
    # Alertmanager, from the start of the session (fixtures.py).
    run = alertmanager_runs[quiet_now].result()
    assert run.received("ApiLatencyHigh"), "the warning never arrived"
    assert run.received("NoProjectsCreated") is not quiet_now, f"quiet hours {run.quiet_hours}"


# What Alertmanager must report for each alert the inhibition test posts.
INHIBITION = {
    "critical mutes the same alert's warning": "suppressed",
    "but not another pod's": "active",
    "ApiDown mutes API latency": "suppressed",
    "ApiDown mutes the API's SLO alerts": "suppressed",
    "ApiDown leaves security alerts": "active",
    "cluster info alone is held back": "suppressed",
    "the platform's info is sent": "active",
}


@pytest.mark.tool
def test_inhibition_in_a_real_alertmanager(written: Callable[[str], Written], tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("123:test")
    recorder = TelegramRecorder()
    app = {"namespace": "samokoder"}
    try:
        config = for_loopback(written("prod").artifacts.alertmanager, recorder.url, token)
        with running_alertmanager(config, tmp_path) as am:
            am.post(
                {"alertname": "ContainerCpuHigh", "severity": "critical", "pod": "api-1", **app},
                {"alertname": "ContainerCpuHigh", "severity": "warning", "pod": "api-1", **app},
                {"alertname": "ContainerCpuHigh", "severity": "warning", "pod": "worker-1", **app},
                {"alertname": "ApiDown", "severity": "critical", "service": "api", **app},
                {
                    "alertname": "ApiLatencyHigh",
                    "severity": "warning",
                    "service": "api",
                    "signal": "latency",
                    **app,
                },
                {
                    "alertname": "ApiAvailabilityBudgetBurn",
                    "severity": "critical",
                    "service": "api",
                    "slo": "availability",
                    "signal": "slo",
                    **app,
                },
                {
                    "alertname": "AuthFailureSpike",
                    "severity": "warning",
                    "service": "api",
                    "signal": "security",
                    **app,
                },
                {"alertname": "InfoInhibitor", "severity": "none", "namespace": "kube-system"},
                {"alertname": "CPUThrottlingHigh", "severity": "info", "namespace": "kube-system"},
                {"alertname": "InfoInhibitor", "severity": "none", **app},
                {"alertname": "NoProjectsCreated", "severity": "info", "service": "api", **app},
            )

            def states() -> dict[str, str]:
                return {
                    "critical mutes the same alert's warning": am.state(
                        "ContainerCpuHigh", severity="warning", pod="api-1"
                    ),
                    "but not another pod's": am.state("ContainerCpuHigh", severity="warning", pod="worker-1"),
                    "ApiDown mutes API latency": am.state("ApiLatencyHigh"),
                    "ApiDown mutes the API's SLO alerts": am.state("ApiAvailabilityBudgetBurn"),
                    "ApiDown leaves security alerts": am.state("AuthFailureSpike"),
                    "cluster info alone is held back": am.state("CPUThrottlingHigh"),
                    "the platform's info is sent": am.state("NoProjectsCreated"),
                }

            # Alertmanager's inhibitor learns of source alerts asynchronously
            # after the POST; read the states once they have settled.
            wait_until(lambda: states() == INHIBITION, 10)
            found = states()
    finally:
        recorder.close()
    assert found == INHIBITION
