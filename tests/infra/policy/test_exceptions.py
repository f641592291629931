"""The log collector's exception: its one read-only host directory and root without power pass; nothing more.

The release as the program renders it passes no-host-access and containers-locked-down,
offline and in the real pack; a second hostPath, a writable mount, another path, root with a
capability, the same values in another release or namespace: each is refused as before.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from infra.conventions import LOG_COLLECTOR_RELEASE, MONITORING_NAMESPACE
from infra.policy.exceptions import LOG_COLLECTOR
from infra.render import charts, log_collector
from infra.render.alloy_config import POD_LOGS
from tests.infra.policy.pack import Pack, running_pack
from tests.infra.policy.test_policies import R, offline_findings, pack_findings

RELEASE = "kubernetes:helm.sh/v3:Release"
HOST, ROOT = "no-host-access", "containers-locked-down"
Change = Callable[[dict[str, Any]], None]


def collector(change: Change | None = None, **props: Any) -> R:
    """The collector's release as the program renders it, its values changed by ``change``."""
    values = copy.deepcopy(log_collector.values())
    if change:
        change(values)
    inputs = {
        "chart": charts.ALLOY.name,
        "version": charts.ALLOY.version,
        "repositoryOpts": {"repo": charts.ALLOY.repository},
        "name": LOG_COLLECTOR_RELEASE,
        "namespace": MONITORING_NAMESPACE,
        "values": values,
        **props,
    }
    return R(RELEASE, "logs", inputs)


def findings(resource: R) -> dict[str, list[str]]:
    return {policy: offline_findings(policy, [resource]) for policy in (HOST, ROOT)}


def _second_host_path(values: dict[str, Any]) -> None:
    values["controller"]["volumes"]["extra"].append({"name": "journal", "hostPath": {"path": "/var/log"}})
    values["alloy"]["mounts"]["extra"].append({"name": "journal", "mountPath": "/var/log", "readOnly": True})


def _writable(values: dict[str, Any]) -> None:
    values["alloy"]["mounts"]["extra"][0]["readOnly"] = False


def _mounted_elsewhere(values: dict[str, Any]) -> None:
    values["controller"]["extraContainers"] = [
        {"name": "shell", "volumeMounts": [{"name": "pod-logs", "mountPath": "/logs"}]}
    ]


def _wider_path(values: dict[str, Any]) -> None:
    values["controller"]["volumes"]["extra"][0]["hostPath"]["path"] = "/var/log"


def _elsewhere_in_values(values: dict[str, Any]) -> None:
    values["alloy"]["extraVolumes"] = [
        {"name": "pod-logs", "hostPath": {"path": POD_LOGS, "type": "Directory"}}
    ]


def _root_with_a_capability(values: dict[str, Any]) -> None:
    values["alloy"]["securityContext"]["capabilities"]["add"] = ["DAC_READ_SEARCH"]


def _root_writing_its_image(values: dict[str, Any]) -> None:
    values["alloy"]["securityContext"]["readOnlyRootFilesystem"] = False


def _root_elsewhere(values: dict[str, Any]) -> None:
    values["configReloader"]["securityContext"] = {**log_collector.ROOT_CONTEXT}


# A change of the values -> the policy that must still refuse it.
REFUSED: dict[str, tuple[Change, str]] = {
    "a second hostPath": (_second_host_path, HOST),
    "the logs mounted writable": (_writable, HOST),
    "the logs mounted by another container": (_mounted_elsewhere, HOST),
    "a wider host path": (_wider_path, HOST),
    "the path under another key": (_elsewhere_in_values, HOST),
    "root with a capability": (_root_with_a_capability, ROOT),
    "root writing its image": (_root_writing_its_image, ROOT),
    "root in another container": (_root_elsewhere, ROOT),
}


def test_the_exception_names_the_programs_release_chart_and_path() -> None:
    assert (LOG_COLLECTOR.namespace, LOG_COLLECTOR.release) == (MONITORING_NAMESPACE, LOG_COLLECTOR_RELEASE)
    assert (LOG_COLLECTOR.chart, LOG_COLLECTOR.repository) == (charts.ALLOY.name, charts.ALLOY.repository)
    assert LOG_COLLECTOR.host_path == POD_LOGS
    # The DaemonSet the chart names after the release.
    assert LOG_COLLECTOR.release == log_collector.DAEMON_SET


def test_the_collector_as_rendered_passes_both_policies() -> None:
    assert findings(collector()) == {HOST: [], ROOT: []}


def test_without_the_exception_the_same_values_are_refused() -> None:
    """What the exception lets through is real: under another name, both policies refuse it."""
    others: list[dict[str, Any]] = [
        {"name": "alloy-2"},
        {"namespace": "default"},
        {"chart": "k8s-monitoring"},
        {"repositoryOpts": {"repo": "https://charts.example.org"}},
    ]
    for other in others:
        found = findings(collector(None, **other))
        assert found[HOST], other
        assert found[ROOT], other


@pytest.mark.parametrize("case", list(REFUSED))
def test_anything_beyond_the_exception_is_still_refused(case: str) -> None:
    change, policy = REFUSED[case]
    assert findings(collector(change))[policy], case


@pytest.fixture(scope="module")
def pack() -> Iterator[Pack]:
    with running_pack() as running:
        yield running


@pytest.mark.tool
def test_the_pack_grants_and_refuses_as_the_offline_check(pack: Pack) -> None:
    rendered, widened = collector(), collector(_second_host_path)
    for policy in (HOST, ROOT):
        assert pack_findings(pack, policy, [rendered]) == []
    refused = offline_findings(HOST, [widened])
    assert refused
    assert pack_findings(pack, HOST, [widened]) == refused
