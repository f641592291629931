"""Monitoring under Pulumi mocks: the pinned chart, its values, and the generated objects."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from infra.app_contract import API_METRICS_PATH
from infra.conventions import ALERTMANAGER_RECEIVERS_SECRET, API_JOB, GRAFANA_ADMIN_SECRET
from infra.ops.synth.mocks import RecordedResource
from infra.ops.synth.runner import Synthesis
from infra.ops.synth.writer import write_synthesis
from infra.render.charts import KUBE_PROMETHEUS_STACK as CHART
from tests.conftest import PROJECT_DIR, STACKS

Synth = Callable[[str], Synthesis]
RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"


def release(synthesis: Synthesis) -> RecordedResource:
    (found,) = (
        r for r in synthesis.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == CHART.name
    )
    return found


@pytest.mark.parametrize("stack", STACKS)
def test_kube_prometheus_stack_is_pinned(synthesized: Synth, stack: str) -> None:
    inputs = release(synthesized(stack)).inputs
    assert (inputs["chart"], inputs["version"], inputs["repositoryOpts"]["repo"]) == (
        "kube-prometheus-stack",
        "88.0.0",
        "https://prometheus-community.github.io/helm-charts",
    )


@pytest.mark.parametrize("stack", STACKS)
def test_prometheus_keeps_what_the_profile_says_and_selects_our_objects(
    synthesized: Synth, stack: str
) -> None:
    synthesis = synthesized(stack)
    spec = release(synthesis).inputs["values"]["prometheus"]["prometheusSpec"]
    stack_profile = yaml.safe_load((PROJECT_DIR / "stacks" / f"{stack}.yaml").read_text())["monitoring"]
    assert spec["retention"] == f"{stack_profile['retention_days']}d"
    claim = spec["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim["resources"]["requests"]["storage"] == f"{stack_profile['storage_gb']}Gi"
    assert claim["storageClassName"] == stack_profile["storage_class"]
    for kind in ("rule", "serviceMonitor", "podMonitor", "probe"):
        assert spec[f"{kind}SelectorNilUsesHelmValues"] is False


@pytest.mark.parametrize("stack", STACKS)
def test_alertmanager_runs_the_generated_config_with_mounted_credentials(
    synthesized: Synth, stack: str
) -> None:
    synthesis = synthesized(stack)
    alertmanager = release(synthesis).inputs["values"]["alertmanager"]
    assert alertmanager["config"] == synthesis.monitoring.alertmanager
    assert alertmanager["alertmanagerSpec"]["secrets"] == [ALERTMANAGER_RECEIVERS_SECRET]
    assert set(release(synthesis).inputs["values"]["defaultRules"]["disabled"]) == {
        "Watchdog",
        "InfoInhibitor",
    }


@pytest.mark.parametrize("stack", STACKS)
def test_grafana_takes_its_admin_password_from_a_secret(synthesized: Synth, stack: str) -> None:
    grafana = release(synthesized(stack)).inputs["values"]["grafana"]
    assert grafana["admin"]["existingSecret"] == GRAFANA_ADMIN_SECRET
    assert "adminPassword" not in grafana
    assert grafana["sidecar"]["dashboards"] == {
        "enabled": True,
        "label": "grafana_dashboard",
        "labelValue": "1",
    }


@pytest.mark.parametrize("stack", STACKS)
def test_every_rule_file_is_a_prometheus_rule_after_the_chart(synthesized: Synth, stack: str) -> None:
    synthesis = synthesized(stack)
    rules = synthesis.of_type(RULE)
    assert sorted(r.inputs["spec"]["groups"][0]["name"] for r in rules) == sorted(
        f.render()["groups"][0]["name"] for f in synthesis.monitoring.rule_files
    )
    for rule in rules:
        assert release(synthesis).urn in rule.dependencies


@pytest.mark.parametrize("stack", STACKS)
def test_dashboards_are_labelled_config_maps(synthesized: Synth, stack: str) -> None:
    synthesis = synthesized(stack)
    maps = [
        m
        for m in synthesis.of_type("kubernetes:core/v1:ConfigMap")
        if "grafana_dashboard" in m.inputs["metadata"]["labels"]
    ]
    assert len(maps) == len(synthesis.monitoring.dashboards)
    for config_map in maps:
        assert config_map.inputs["metadata"]["labels"]["grafana_dashboard"] == "1"
        ((key, text),) = config_map.inputs["data"].items()
        uid = key.removesuffix(".json")
        assert json.loads(text) == synthesis.monitoring.dashboards[uid]


@pytest.mark.parametrize("stack", STACKS)
def test_the_api_is_scraped_by_label_under_the_job_the_rules_read(synthesized: Synth, stack: str) -> None:
    (monitor,) = synthesized(stack).of_type("kubernetes:monitoring.coreos.com/v1:ServiceMonitor")
    spec = monitor.inputs["spec"]
    assert spec["selector"]["matchLabels"]["app.kubernetes.io/component"] == "api"
    (endpoint,) = spec["endpoints"]
    # The app mounts its metrics app at /metrics, which answers only /metrics/ without a redirect.
    assert endpoint["path"] == API_METRICS_PATH == "/metrics/"
    assert {"targetLabel": "job", "replacement": API_JOB} in endpoint["relabelings"]


@pytest.mark.parametrize("stack", STACKS)
def test_synth_writes_exactly_the_deployed_rules(synthesized: Synth, stack: str, tmp_path: Path) -> None:
    synthesis = synthesized(stack)
    write_synthesis(synthesis, tmp_path / stack)
    monitoring = tmp_path / stack / "monitoring"
    written = {p.stem: yaml.safe_load(p.read_text()) for p in (monitoring / "rules").glob("*.yaml")}
    deployed = {
        r.inputs["metadata"]["name"].removeprefix("samokoder-"): r.inputs["spec"]
        for r in synthesis.of_type(RULE)
    }
    assert written == deployed
    assert (
        yaml.safe_load((monitoring / "alertmanager.yml").read_text())
        == release(synthesis).inputs["values"]["alertmanager"]["config"]
    )
    assert sorted(p.stem for p in (monitoring / "dashboards").glob("*.json")) == sorted(
        synthesis.monitoring.dashboards
    )
