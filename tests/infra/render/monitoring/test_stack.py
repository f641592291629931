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
