"""The log collector: its config's labels, files and destination; its values against the chart's; policy."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.conventions import LOKI_RELEASE, LOKI_SERVICE, MONITORING_NAMESPACE, NAME_LABEL, Naming
from infra.render import charts, log_collector
from infra.render.alloy_config import CRI_LABEL, FILE_LABEL, LOKI_PUSH_URL, POD_LOGS, STREAM_LABELS, config
from infra.render.workloads import upstream_pods as up

UPSTREAM = Path(__file__).parents[2] / "charts" / f"alloy-{charts.ALLOY.version}-values.yaml"
METRIC_LABELS = {"namespace", "pod", "container", "app"}


def blocks(text: str, name: str) -> list[str]:
    """The bodies of the top-level blocks ``name "label" {...}`` (components end at a column-0 brace)."""
    return re.findall(rf'^{re.escape(name)} "[a-z_]+" {{\n(.*?)^}}', text, re.MULTILINE | re.DOTALL)


def test_streams_carry_exactly_the_labels_the_metrics_carry() -> None:
    assert set(STREAM_LABELS) == METRIC_LABELS
    (relabel,) = blocks(config(), "discovery.relabel")
    written = re.findall(r'target_label\s+=\s+"([^"]+)"', relabel)
    # The four, and the file's path, which loki.source.file reads and does not send (a __ label).
    assert sorted(written) == sorted([*METRIC_LABELS, "__path__"])
    for label, source in STREAM_LABELS.items():
        assert f'source_labels = ["{source}"]\n    target_label  = "{label}"' in relabel
    # The app label is the pod's name label, as the app's metrics select it.
    assert STREAM_LABELS["app"] == "__meta_kubernetes_pod_label_" + re.sub(r"[^a-z0-9]", "_", NAME_LABEL)


def test_the_labels_the_pipeline_adds_are_dropped_after_the_cri_stage_adds_one() -> None:
    """stage.cri adds "stream"; loki.source.file adds "filename" to every entry (file.go:43,
    tailer.go:66 at v1.18.1): neither is one of the four."""
    (process,) = blocks(config(), "loki.process")
    assert (CRI_LABEL, FILE_LABEL) == ("stream", "filename")
    assert process.index("stage.cri {}") < process.index(f'values = ["{CRI_LABEL}", "{FILE_LABEL}"]')
    assert "stage.label_drop" in process


def test_each_container_is_tailed_from_its_own_file_on_this_node_only() -> None:
    text = config()
    assert 'field = "spec.nodeName=" + coalesce(sys.env("HOSTNAME")' in text
    assert '"__meta_kubernetes_pod_uid", "__meta_kubernetes_pod_container_name"' in text
    assert f'replacement   = "{POD_LOGS}/*$1/*.log"' in text
    (source,) = blocks(text, "loki.source.file")
    assert "file_match {\n    enabled = true" in source


def test_the_pipeline_is_wired_in_order_to_loki() -> None:
    text = config()
    wanted = f"http://{LOKI_SERVICE[0]}.{MONITORING_NAMESPACE}.svc:{LOKI_SERVICE[1]}/loki/api/v1/push"
    assert wanted == LOKI_PUSH_URL
    assert f'url = "{LOKI_PUSH_URL}"' in text
    for reference in (
        "targets = discovery.kubernetes.pods.targets",
        "targets    = discovery.relabel.pods.output",
        "forward_to = [loki.process.pods.receiver]",
        "forward_to = [loki.write.loki.receiver]",
    ):
        assert reference in text, reference


def test_the_config_survives_the_charts_tpl() -> None:
    """The chart passes the content through Helm's tpl (templates/configmap.yaml:13)."""
    assert "{{" not in config()
    assert log_collector.values()["alloy"]["configMap"]["content"] == config()


def _leaves(ours: Any, theirs: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(path, our value, the chart's default) down to where the chart's default stops being a mapping."""
    if isinstance(ours, dict) and isinstance(theirs, dict) and theirs:
        for key, value in ours.items():
            assert key in theirs, f"{path}.{key} is no value of the chart"
            yield from _leaves(value, theirs[key], f"{path}.{key}")
    else:
        yield path, ours, theirs


def test_every_value_is_one_the_chart_has_of_the_kind_it_has() -> None:
    upstream = yaml.safe_load(UPSTREAM.read_text(encoding="utf-8"))
    seen = []
    for path, ours, theirs in _leaves(log_collector.values(), upstream):
        seen.append(path)
        if theirs is not None:
            assert type(ours) is type(theirs), (path, ours, theirs)
    assert ".alloy.configMap.content" in seen
    assert ".controller.volumes.extra" in seen


def test_a_daemonset_that_shares_nothing_of_its_node_but_the_logs_read_only() -> None:
    values = log_collector.values()
    controller, alloy = values["controller"], values["alloy"]
    assert controller["type"] == "daemonset"
    assert controller["hostNetwork"] is False
    assert controller["hostPID"] is False
    host = [v for v in controller["volumes"]["extra"] if "hostPath" in v]
    assert host == [{"name": "pod-logs", "hostPath": {"path": POD_LOGS, "type": "Directory"}}]
    assert alloy["mounts"]["varlog"] is False
    assert {"name": "pod-logs", "mountPath": POD_LOGS, "readOnly": True} in alloy["mounts"]["extra"]
    context = alloy["securityContext"]
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    # The one place it writes is its own volume.
    writable = [m["mountPath"] for m in alloy["mounts"]["extra"] if not m.get("readOnly")]
    assert writable == [alloy["storagePath"]]


def _cluster_role_rules(rbac: dict[str, Any]) -> Any:
    """The ClusterRole's rules as the chart writes them: each list through toYaml (Sprig's: the
    YAML and its final newline trimmed, so an empty list is "[]"), indented two, under "rules:"
    (templates/rbac.yaml:46-49 at helm-chart/1.11.1)."""

    def to_yaml(value: Any) -> str:
        return yaml.safe_dump(value, default_flow_style=False).rstrip("\n")

    def nindent(text: str) -> str:
        return "\n" + "\n".join("  " + line for line in text.splitlines())

    text = "rules:" + nindent(to_yaml(rbac["rules"])) + nindent(to_yaml(rbac["clusterRules"]))
    return yaml.safe_load(text)["rules"]


def test_the_charts_cluster_role_holds_an_empty_list_as_no_yaml() -> None:
    """What the fixed values avoid: an empty clusterRules fails the whole install."""
    pods = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}
    with pytest.raises(yaml.YAMLError):
        _cluster_role_rules({"rules": [pods], "clusterRules": []})


def test_its_role_reads_pods_and_nothing_else() -> None:
    rules = _cluster_role_rules(log_collector.values()["rbac"])
    assert {(tuple(r["apiGroups"]), tuple(r["resources"]), tuple(r["verbs"])) for r in rules} == {
        (("",), ("pods",), ("get", "list", "watch"))
    }


@pytest.fixture
def policy() -> dict[str, Any]:
    return log_collector.collector_policy(Naming("staging"))


def test_the_policy_selects_the_charts_pods_and_lets_nothing_in(policy: dict[str, Any]) -> None:
    spec = policy["spec"]
    assert policy["metadata"]["namespace"] == MONITORING_NAMESPACE
    assert spec["podSelector"] == {"matchLabels": log_collector.POD_LABELS}
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in spec


def test_the_policy_lets_out_loki_the_api_and_dns_only(policy: dict[str, Any]) -> None:
    egress = policy["spec"]["egress"]
    assert [sorted(p["port"] for p in rule["ports"]) for rule in egress] == [
        [LOKI_SERVICE[1]],
        sorted(up.KUBE_API_PORTS),
        [53, 53],
    ]
    loki = egress[0]["to"][0]
    assert loki["podSelector"] == {"matchLabels": {"app.kubernetes.io/instance": LOKI_RELEASE}}
    assert log_collector.KUBE_API_PORTS == up.KUBE_API_PORTS
