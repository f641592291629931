"""The exporters' values and the Probe: Redis as the app reads it, the queue depth, users' paths probed."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from infra.app_contract import QUEUE_KEY
from infra.conventions import (
    APP_NAMESPACE,
    BLACKBOX_JOB,
    BLACKBOX_RELEASE,
    MONITORING_NAMESPACE,
    PUSHGATEWAY_RELEASE,
    REDIS_PORT,
    Naming,
    workload_name,
)
from infra.render import charts, exporters
from infra.render.charts import BLACKBOX_EXPORTER
from infra.render.exporters import (
    BLACKBOX_ADDRESS,
    BLACKBOX_PORT,
    blackbox_values,
    probe,
    probe_targets,
    redis_exporter_values,
)
from infra.render.workloads import drill, manifests
from infra.settings import load_settings
from tests.conftest import stack_file_values
from tests.crd_schemas import crd_problems

NAMING = Naming("unit")
HOST, PORT = "samokoder-redis.samokoder.svc", REDIS_PORT
UNITS = {"m": 1e-3, "": 1.0, "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30}
DNS_LABEL = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")


def quantity(text: str) -> float:
    match = re.fullmatch(r"([0-9.]+)(m|Ki|Mi|Gi|)", text)
    assert match, f"not a quantity this test reads: {text!r}"
    return float(match[1]) * UNITS[match[2]]


def seconds(text: str) -> int:
    match = re.fullmatch(r"([0-9]+)s", text)
    assert match, f"not a duration in seconds: {text!r}"
    return int(match[1])


def test_the_redis_exporter_connects_to_the_host_and_port_it_is_given_in_plain_text() -> None:
    address = urlsplit(redis_exporter_values(HOST, PORT)["redisAddress"])
    assert (address.scheme, address.hostname, address.port) == ("redis", HOST, PORT)


def test_the_redis_exporter_sends_no_password_to_a_redis_without_one() -> None:
    assert "auth" not in redis_exporter_values(HOST, PORT)


def test_the_redis_exporter_exports_the_depth_of_the_workers_queue() -> None:
    # redis_key_size{key="arq:queue"}: ZCARD of the sorted set arq queues jobs in.
    assert redis_exporter_values(HOST, PORT)["extraArgs"] == {"check-single-keys": QUEUE_KEY}


def test_the_redis_exporter_is_scraped_through_a_service_monitor() -> None:
    assert redis_exporter_values(HOST, PORT)["serviceMonitor"] == {"enabled": True}


@pytest.mark.parametrize(
    "values",
    [redis_exporter_values(HOST, PORT), blackbox_values()],
    ids=["redis-exporter", "blackbox"],
)
def test_exporters_request_no_more_than_their_limits(values: dict[str, Any]) -> None:
    resources = values["resources"]
    for name in ("cpu", "memory"):
        assert 0 < quantity(resources["requests"][name]) <= quantity(resources["limits"][name]), name


def test_the_probe_uses_a_module_the_blackbox_exporter_has_and_gives_it_up_before_the_next_round() -> None:
    spec = probe(NAMING)["spec"]
    module = blackbox_values()["config"]["modules"][spec["module"]]
    assert module["prober"] == "http"
    assert seconds(module["timeout"]) < seconds(spec["interval"])


def test_the_probe_is_valid_for_its_crd_and_carries_the_job_the_alerts_select() -> None:
    document = probe(NAMING)
    assert crd_problems(document) == []
    assert document["metadata"]["namespace"] == MONITORING_NAMESPACE
    assert document["spec"]["jobName"] == BLACKBOX_JOB


def test_the_prober_is_the_service_the_blackbox_chart_creates_for_its_release() -> None:
    url = urlsplit(f"//{BLACKBOX_ADDRESS}")
    service, namespace, svc = (url.hostname or "").split(".")
    assert (namespace, svc, url.port) == (MONITORING_NAMESPACE, "svc", BLACKBOX_PORT)
    assert service == f"{BLACKBOX_RELEASE}-{BLACKBOX_EXPORTER.name}"
    # Within a DNS label, so the chart does not truncate the name it gives the Service.
    assert DNS_LABEL.fullmatch(service), service
    assert probe(NAMING)["spec"]["prober"]["url"] == BLACKBOX_ADDRESS


def test_the_probe_targets_are_what_users_reach_and_the_pods_call_healthy() -> None:
    spec = manifests.AppSpec.of(load_settings("prod", stack_file_values("prod"), offline=True))
    containers = {
        service: render(NAMING, spec, "image")["spec"]["template"]["spec"]["containers"][0]
        for service, render in (
            ("api", manifests.api_deployment),
            ("frontend", manifests.frontend_deployment),
        )
    }
    targets = {urlsplit(t).hostname: urlsplit(t) for t in probe_targets()}
    assert set(targets) == {f"{workload_name(s)}.{APP_NAMESPACE}.svc" for s in containers}
    for service, container in containers.items():
        target = targets[f"{workload_name(service)}.{APP_NAMESPACE}.svc"]
        assert target.scheme == "http"
        # The path the pods' readiness answers, on the port they listen on.
        assert target.path == container["readinessProbe"]["httpGet"]["path"], service
        (http,) = (p for p in container["ports"] if p["name"] == "http")
        assert (target.port or 80) == http["containerPort"], service
    assert probe(NAMING)["spec"]["targets"]["staticConfig"]["static"] == probe_targets()


def test_the_pushgateway_keeps_what_was_pushed_and_its_monitor_honours_the_pushed_labels() -> None:
    values = exporters.pushgateway_values()
    assert values["serviceMonitor"] == {"enabled": True, "namespace": "monitoring", "honorLabels": True}
    assert values["persistentVolume"]["enabled"] is True
    # The file lives on the chart's volume (persistentVolume.mountPath, /data by default).
    assert values["extraArgs"] == ["--persistence.file=/data/pushgateway.db"]
    assert values["automountServiceAccountToken"] is False


def test_the_drill_pushes_to_the_service_the_pushgateway_chart_creates_for_its_release() -> None:
    # The chart names its Service after the release when the release holds the chart's name
    # (templates/_helpers.tpl:25-39 at prometheus-pushgateway-3.8.0), on service.port.
    assert charts.PUSHGATEWAY.name in PUSHGATEWAY_RELEASE
    assert f"/services/http:{PUSHGATEWAY_RELEASE}:{exporters.pushgateway_values()['service']['port']}/" in (
        drill.push_path("staging", None)
    )
