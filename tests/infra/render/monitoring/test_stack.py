"""kube-prometheus-stack's values and the objects that carry the generated artifacts."""

from __future__ import annotations

from infra.app_contract import API_METRICS_PATH
from infra.conventions import API_JOB, Naming
from infra.render.monitoring import stack
from infra.settings.monitoring import MonitoringProfile

PROFILE = MonitoringProfile(
    retention_days=30, storage_class="yc-network-ssd", storage_gb=50, grafana_storage_gb=5
)


def test_control_plane_parts_a_managed_cluster_hides_are_not_scraped_nor_alerted_on() -> None:
    values = stack.chart_values(PROFILE, {})
    # Enabled, each would feed a *Down alert (critical for scheduler and controller manager) forever.
    for component in ("kubeScheduler", "kubeControllerManager", "kubeEtcd", "kubeProxy"):
        assert values[component] == {"enabled": False}, component
    # The kubelet and the API server stay: the managed cluster exposes both.
    assert "kubelet" not in values
    assert "kubeApiServer" not in values


def test_the_api_is_scraped_where_the_app_serves_metrics_under_the_job_the_rules_select() -> None:
    monitor = stack.api_service_monitor(Naming("unit"))
    (endpoint,) = monitor["spec"]["endpoints"]
    # /metrics is a Mount in the app: it answers 307 to /metrics/.
    assert endpoint["path"] == API_METRICS_PATH == "/metrics/"
    assert {"targetLabel": "job", "replacement": API_JOB} in endpoint["relabelings"]


def test_grafana_with_its_single_attach_volume_stops_the_old_pod_before_starting_the_new() -> None:
    grafana = stack.chart_values(PROFILE, {})["grafana"]
    # A persistent volume on a network disk attaches to one node: with RollingUpdate the new
    # pod (maybe on another node) waits for the old pod's disk, which the old pod keeps.
    assert grafana["persistence"]["enabled"] is True
    assert grafana.get("persistence", {}).get("accessModes", ["ReadWriteOnce"]) == ["ReadWriteOnce"]
    # Helm merges it over the chart's {type: RollingUpdate}, which has no rollingUpdate keys
    # (grafana-12.10.0 values.yaml:79-80; kube-prometheus-stack 88.0.0 sets none): the result is
    # Recreate alone, which is all Kubernetes accepts with it.
    assert grafana["deploymentStrategy"] == {"type": "Recreate"}
    # A StatefulSet would replace its pod in place; Grafana stays the chart's Deployment.
    assert not grafana.get("useStatefulSet", False)
