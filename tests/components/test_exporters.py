"""Exporters alone: pinned charts, the Probe after its prober, Redis read as the app reads it."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import cast
from urllib.parse import urlsplit

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components.cluster_redis import ClusterRedis, ClusterRedisArgs
from components.exporters import Exporters, ExportersArgs
from components.kube import kubernetes_object
from components.monitoring import Monitoring
from components.secrets import Secrets
from infra.conventions import (
    APP_NAMESPACE,
    BLACKBOX_JOB,
    BLACKBOX_RELEASE,
    MONITORING_NAMESPACE,
    PUSHGATEWAY_RELEASE,
    REDIS_EXPORTER_RELEASE,
    REDIS_PORT,
)
from infra.ops.synth.mocks import RecordedResource
from infra.render import charts
from infra.render.charts import Chart
from infra.settings.workloads import RedisProfile
from tests.components.harness import NAMING, Built, build

RELEASE = "kubernetes:helm.sh/v3:Release"
PROBE = "kubernetes:monitoring.coreos.com/v1:Probe"
REDIS_SERVICE = "kubernetes:core/v1:Service"
# Stand-ins for the siblings whose one resource the exporters wait for.
MONITORING_RELEASE = "monitoring"
APP_EXTERNAL_SECRET = "secrets-app-external-secret"  # pragma: allowlist secret (a resource name)


@dataclass(frozen=True)
class Exported:
    built: Built[Exporters]
    redis_host: str

    def release(self, chart: Chart) -> RecordedResource:
        (found,) = (r for r in self.built.of_type(RELEASE) if r.inputs["chart"] == chart.name)
        return found

    def urn(self, name: str) -> str:
        return self.built.named(name).urn


def redis_in_the_cluster() -> ClusterRedis:
    namespace = kubernetes_object(
        "app-namespace",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": APP_NAMESPACE}},
        pulumi.ResourceOptions(),
    )
    return ClusterRedis(
        "redis",
        ClusterRedisArgs(
            naming=NAMING,
            profile=RedisProfile(memory_mib=256, storage_gb=2, storage_class="yc-network-hdd"),
            namespace=namespace,
            protect=False,
        ),
    )


def exporters() -> Exported:
    hosts: list[str] = []

    def program() -> Exporters:
        redis = redis_in_the_cluster()
        redis.host.apply(hosts.append)
        release = k8s.helm.v3.Release(MONITORING_RELEASE, chart=charts.KUBE_PROMETHEUS_STACK.name)
        external_secret = k8s.apiextensions.CustomResource(
            APP_EXTERNAL_SECRET, api_version="external-secrets.io/v1", kind="ExternalSecret"
        )
        return Exporters(
            "exporters",
            ExportersArgs(
                naming=NAMING,
                redis=redis,
                monitoring=cast(Monitoring, SimpleNamespace(release=release)),
                secrets=cast(Secrets, SimpleNamespace(external_secrets=[external_secret])),
            ),
        )

    built = build(program)
    (host,) = hosts
    return Exported(built, host)


@pytest.mark.parametrize(
    ("chart", "release", "namespace"),
    [
        (charts.REDIS_EXPORTER, REDIS_EXPORTER_RELEASE, APP_NAMESPACE),
        (charts.BLACKBOX_EXPORTER, BLACKBOX_RELEASE, MONITORING_NAMESPACE),
        (charts.PUSHGATEWAY, PUSHGATEWAY_RELEASE, MONITORING_NAMESPACE),
    ],
    ids=["redis", "blackbox", "pushgateway"],
)
def test_each_exporter_is_its_pinned_chart_under_the_conventional_release_and_namespace(
    chart: Chart, release: str, namespace: str
) -> None:
    inputs = exporters().release(chart).inputs
    assert (inputs["chart"], inputs["version"], inputs["repositoryOpts"]["repo"]) == (
        chart.name,
        chart.version,
        chart.repository,
    )
    assert (inputs["name"], inputs["namespace"]) == (release, namespace)


def test_the_probe_waits_for_the_blackbox_release_and_the_monitoring_release() -> None:
    exported = exporters()
    probe = exported.built.one(PROBE)
    blackbox = exported.release(charts.BLACKBOX_EXPORTER)
    # The prober must answer, and the Probe CRD (the monitoring release's) must exist.
    assert {blackbox.urn, exported.urn(MONITORING_RELEASE)} <= set(probe.dependencies)


def test_the_probe_sends_prometheus_to_the_service_the_blackbox_release_creates() -> None:
    exported = exporters()
    spec = exported.built.one(PROBE).inputs["spec"]
    blackbox = exported.release(charts.BLACKBOX_EXPORTER).inputs
    host = spec["prober"]["url"].split(":")[0]
    # The chart names its Service "<release>-<chart>" in the release's namespace.
    assert host == f"{blackbox['name']}-{blackbox['chart']}.{blackbox['namespace']}.svc"
    assert spec["jobName"] == BLACKBOX_JOB
    assert spec["module"] in blackbox["values"]["config"]["modules"]


def test_the_redis_exporter_reads_the_redis_in_the_cluster_in_plain_text_without_a_password() -> None:
    exported = exporters()
    release = exported.release(charts.REDIS_EXPORTER)
    values = release.inputs["values"]
    address = urlsplit(values["redisAddress"])
    assert (address.scheme, address.hostname, address.port) == ("redis", exported.redis_host, REDIS_PORT)
    assert exported.redis_host == f"samokoder-redis.{APP_NAMESPACE}.svc"
    # That Redis has no password: asking for one would fail every scrape.
    assert "auth" not in values
    # The address is known only once its Service exists.
    (service,) = (r for r in exported.built.of_type(REDIS_SERVICE) if r.name == "redis-service")
    assert service.urn in release.dependencies


@pytest.mark.parametrize(
    "chart", [charts.REDIS_EXPORTER, charts.BLACKBOX_EXPORTER, charts.PUSHGATEWAY], ids=lambda c: c.name
)
def test_every_exporter_waits_for_the_monitoring_crds_and_the_delivered_secrets(chart: Chart) -> None:
    exported = exporters()
    dependencies = set(exported.release(chart).dependencies)
    assert {exported.urn(MONITORING_RELEASE), exported.urn(APP_EXTERNAL_SECRET)} <= dependencies


def test_every_resource_of_the_exporters_is_its_child() -> None:
    built = exporters().built
    (component,) = [r for r in built.resources if r.type == "samokoder:monitoring:Exporters"]
    mine = {(r.type, r.name) for r in built.resources if r.parent == component.urn}
    assert mine == {
        (RELEASE, "exporters-redis"),
        (RELEASE, "exporters-blackbox"),
        (PROBE, "exporters-probe"),
        (RELEASE, "exporters-pushgateway"),
    }
