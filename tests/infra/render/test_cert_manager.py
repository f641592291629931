"""cert-manager's values: CRDs by the chart's current keys, and no ServiceMonitor before its CRD can exist."""

from __future__ import annotations

import re
from collections.abc import Callable

from infra.ops.synth.runner import Synthesis
from infra.render import cert_manager
from infra.render.charts import CERT_MANAGER, KUBE_PROMETHEUS_STACK

Synth = Callable[[str], Synthesis]
RELEASE = "kubernetes:helm.sh/v3:Release"


def version(text: str) -> tuple[int, ...]:
    match = re.fullmatch(r"v?([0-9]+)\.([0-9]+)\.([0-9]+)", text)
    assert match, text
    return tuple(int(part) for part in match.groups())


def test_crds_are_set_with_the_keys_the_pinned_chart_reads() -> None:
    values = cert_manager.values()
    # The chart reads crds.enabled and crds.keep from v1.15; installCRDs is the deprecated spelling.
    assert version(CERT_MANAGER.version) >= (1, 15, 0)
    assert "installCRDs" not in values
    assert values["crds"]["enabled"] is True


def test_a_service_monitor_is_asked_for_only_when_cert_manager_waits_for_its_crd(synthesized: Synth) -> None:
    synthesis = synthesized("prod")
    releases = {r.inputs["chart"]: r for r in synthesis.of_type(RELEASE)}
    waits = releases[KUBE_PROMETHEUS_STACK.name].urn in releases[CERT_MANAGER.name].dependencies
    wants_monitor = cert_manager.values()["prometheus"]["servicemonitor"]["enabled"]
    # An atomic install that needs a CRD nobody installed yet fails and rolls back.
    assert waits or not wants_monitor
    # The controller still exposes its metrics for a scrape.
    assert cert_manager.values()["prometheus"]["enabled"] is True


def test_each_call_returns_values_of_its_own() -> None:
    first = cert_manager.values()
    first["crds"]["keep"] = False
    assert cert_manager.values()["crds"]["keep"] is True
