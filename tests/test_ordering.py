"""Ordering as data: in both stacks nothing can be created before what it needs exists.

Pulumi creates a resource once everything in its ``dependencies`` (and its
provider) exists. Walking those edges transitively, a custom resource must
come after the Helm release that installs its CRD, a release whose chart
renders monitors after the release that installs the monitoring CRDs, and
every release and object after the node groups that run their pods.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from infra.ops.synth.mocks import RecordedResource
from infra.ops.synth.runner import Synthesis
from infra.render import charts
from tests.conftest import STACKS

Synth = Callable[[str], Synthesis]
RELEASE = "kubernetes:helm.sh/v3:Release"
NODE_GROUP = "yandex:index/kubernetesNodeGroup:KubernetesNodeGroup"
# Which chart installs the CRDs of an API group (each chart's crds values are on).
CRD_CHART = {
    "monitoring.coreos.com": charts.KUBE_PROMETHEUS_STACK.name,
    "postgresql.cnpg.io": charts.CLOUDNATIVE_PG.name,
    "barmancloud.cnpg.io": charts.BARMAN_CLOUD_PLUGIN.name,
    "external-secrets.io": charts.EXTERNAL_SECRETS.name,
    "cert-manager.io": charts.CERT_MANAGER.name,
    # Its crds/ directory (tests/crds/README.md).
    "flagger.app": charts.FLAGGER.name,
}
# Values that make a chart render monitoring.coreos.com objects.
MONITOR_KEYS = ('"serviceMonitor": {"enabled": true', '"podMonitor": {"enabled": true')


def before(synthesis: Synthesis) -> Callable[[RecordedResource], set[str]]:
    """URN -> every URN that must exist before it: dependencies and providers, transitively."""
    by_urn = {r.urn: r for r in synthesis.resources}
    cache: dict[str, set[str]] = {}

    def direct(resource: RecordedResource) -> set[str]:
        return {*resource.dependencies, *([resource.provider] if resource.provider else [])}

    def walk(urn: str) -> set[str]:
        if urn not in cache:
            cache[urn] = set()
            resource = by_urn.get(urn)
            found = direct(resource) if resource else set()
            for dependency in list(found):
                found |= walk(dependency)
            cache[urn] = found
        return cache[urn]

    return lambda resource: walk(resource.urn)


def release_urns(synthesis: Synthesis, chart: str) -> set[str]:
    return {r.urn for r in synthesis.of_type(RELEASE) if r.inputs["chart"] == chart}


def custom_resources(synthesis: Synthesis) -> list[RecordedResource]:
    return [
        r
        for r in synthesis.deployed()
        if r.type.startswith("kubernetes:") and r.type.split(":")[1].split("/")[0] in CRD_CHART
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_every_custom_resource_comes_after_the_release_that_installs_its_crd(
    synthesized: Synth, stack: str
) -> None:
    synthesis = synthesized(stack)
    needs = before(synthesis)
    found = custom_resources(synthesis)
    assert len(found) > 10, "expected the stack's custom resources"
    for resource in found:
        group = resource.type.split(":")[1].split("/")[0]
        installers = release_urns(synthesis, CRD_CHART[group])
        assert installers & needs(resource), f"{resource.urn} may be created before {CRD_CHART[group]}"


@pytest.mark.parametrize("stack", STACKS)
def test_every_chart_that_renders_monitors_comes_after_the_monitoring_crds(
    synthesized: Synth, stack: str
) -> None:
    synthesis = synthesized(stack)
    needs = before(synthesis)
    monitoring = release_urns(synthesis, charts.KUBE_PROMETHEUS_STACK.name)
    rendering = [
        r
        for r in synthesis.of_type(RELEASE)
        if any(key in json.dumps(r.inputs.get("values", {})) for key in MONITOR_KEYS)
    ]
    assert rendering, "expected charts with a ServiceMonitor (ingress-nginx, the redis exporter)"
    for release in rendering:
        assert monitoring & needs(release), f"{release.inputs['chart']} may render monitors before their CRDs"


@pytest.mark.parametrize("stack", STACKS)
def test_flagger_comes_after_the_ingress_controller_it_routes_through(synthesized: Synth, stack: str) -> None:
    synthesis = synthesized(stack)
    (flagger,) = release_urns(synthesis, charts.FLAGGER.name)
    (release,) = (r for r in synthesis.of_type(RELEASE) if r.urn == flagger)
    assert release_urns(synthesis, charts.INGRESS_NGINX.name) & before(synthesis)(release)


@pytest.mark.parametrize("stack", STACKS)
def test_every_kubernetes_resource_comes_after_every_node_group(synthesized: Synth, stack: str) -> None:
    synthesis = synthesized(stack)
    needs = before(synthesis)
    groups = {r.urn for r in synthesis.of_type(NODE_GROUP)}
    assert groups
    in_cluster = [r for r in synthesis.deployed() if r.type.startswith("kubernetes:")]
    late = [r.urn for r in in_cluster if not groups <= needs(r)]
    assert not late, f"created before the nodes exist: {late[:5]}"
