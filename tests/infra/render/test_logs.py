"""Loki: its values against the chart's own, its storage and retention per stack, its rules and policy."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml

from infra.conventions import (
    APP_NAMESPACE,
    LOKI_DATASOURCE_UID,
    LOKI_SERVICE,
    MONITORING_NAMESPACE,
    NAME_LABEL,
    Naming,
)
from infra.ops.synth.runner import Synthesis
from infra.render import charts, logs
from infra.render.monitoring import stack as monitoring_stack
from infra.render.workloads import manifests
from infra.settings import load_settings
from tests.conftest import PROJECT_DIR, STACKS, stack_file_values

Synth = Callable[[str], Synthesis]
NAMING = Naming("unit")
UPSTREAM = PROJECT_DIR / "tests" / "charts" / f"loki-{charts.LOKI.version}-values.yaml"
# Blocks the chart hands to Loki's configuration as they are (each marked
# "@schema skipProperties:true;additionalProperties:true" upstream): their keys are Loki's.
FREE_FORM = {
    ("loki", "limits_config"),  # values.yaml:604-606
    ("loki", "schemaConfig"),  # values.yaml:767, rendered as schema_config
    ("loki", "rulerConfig"),  # values.yaml:781-787
    ("loki", "compactor"),  # values.yaml:816-818
    ("loki", "analytics"),  # values.yaml:828, rendered as analytics
    ("loki", "storage", "bucketNames"),  # commented out upstream (values.yaml:627-631)
    ("singleBinary", "resources"),  # values.yaml:2043-2045
}
BUCKET = "samokoder-unit-logs"


def settings(stack: str) -> Any:
    return load_settings(stack, stack_file_values(stack), offline=True)


def leaves(values: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(path, value) of every value we set, stopping at a free-form block."""
    if isinstance(values, dict) and values and path not in FREE_FORM:
        for key, value in values.items():
            yield from leaves(value, (*path, key))
    else:
        yield path, values


def unknown_keys(ours: dict[str, Any], upstream: dict[str, Any]) -> list[str]:
    found = []
    for path, value in leaves(ours):
        node: Any = upstream
        for depth, key in enumerate(path):
            if path[: depth + 1] in FREE_FORM:
                break
            if not isinstance(node, dict) or key not in node:
                found.append(".".join(path))
                break
            node = node[key]
        else:
            # A switch stays a switch, a list a list: a mapping where the chart wants a string is a typo too.
            if node is not None and type(node) is not type(value) and not isinstance(value, type(node)):
                found.append(f"{'.'.join(path)}: {type(value).__name__}, upstream {type(node).__name__}")
    return found


@pytest.fixture(scope="module")
def upstream() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(UPSTREAM.read_text())
    return loaded


@pytest.mark.parametrize("stack", STACKS)
def test_every_value_we_set_is_one_the_pinned_chart_has(upstream: dict[str, Any], stack: str) -> None:
    values = logs.chart_values(settings(stack).logs, BUCKET)
    assert unknown_keys(values, upstream) == []


def test_a_misspelt_value_is_caught(upstream: dict[str, Any]) -> None:
    values = logs.chart_values(settings("staging").logs, BUCKET)
    values["lokiCanary"] = {"enable": False}
    values["singleBinary"]["replicas"] = "1"
    assert unknown_keys(values, upstream) == ["singleBinary.replicas: str, upstream int", "lokiCanary.enable"]


def test_the_vendored_values_are_the_pinned_chart_version() -> None:
    # The chart's README table names the version it documents; the values file carries its appVersion
    # only through Chart.yaml, so the file name is the pin (tests/charts/README.md).
    assert UPSTREAM.exists(), UPSTREAM
    assert f"`loki-{charts.LOKI.version}-values.yaml`" in (UPSTREAM.parent / "README.md").read_text()


def test_one_pod_in_monolithic_mode_with_nothing_we_do_not_use(upstream: dict[str, Any]) -> None:
    values = logs.chart_values(settings("prod").logs, BUCKET)
    assert values["deploymentMode"] == "Monolithic"
    assert values["singleBinary"]["replicas"] == 1
    # Each is on by default upstream: turning it off is a decision, not a restatement.
    for part in ("gateway", "lokiCanary", "test", "resultsCache", "chunksCache"):
        assert upstream[part]["enabled"] is True, part
        assert values[part] == {"enabled": False}, part
    assert upstream["sidecar"]["rules"]["enabled"] is True
    assert values["sidecar"] == {"rules": {"enabled": False}}
    assert values["rbac"]["namespaced"] is True


def test_the_chart_renders_one_monolithic_pod_and_no_scalable_target(upstream: dict[str, Any]) -> None:
    """templates/validate.yaml:15, 34-36 at loki-18.11.0: a monolithic replica beside any write, read
    or backend replica fails the render outside the transitional modes; those default to 3."""
    values = logs.chart_values(settings("prod").logs, BUCKET)
    for target in ("write", "read", "backend"):
        assert upstream[target]["replicas"] > 0, target
        replicas = values.get(target, {}).get("replicas", upstream[target]["replicas"])
        assert replicas == 0, target
    assert values["singleBinary"]["replicas"] > 0


def test_no_usage_report_leaves_the_cluster() -> None:
    """Loki's analytics default to on (pkg/analytics/reporter.go:61 at v3.7.6); its HTTPS egress is open."""
    for stack in STACKS:
        assert logs.chart_values(settings(stack).logs, BUCKET)["loki"]["analytics"] == {
            "reporting_enabled": False
        }


def test_the_chart_keeps_its_restricted_security_contexts(upstream: dict[str, Any]) -> None:
    values = logs.chart_values(settings("prod").logs, BUCKET)
    assert "podSecurityContext" not in values["loki"]
    assert "containerSecurityContext" not in values["loki"]
    pod, container = upstream["loki"]["podSecurityContext"], upstream["loki"]["containerSecurityContext"]
    assert pod["runAsNonRoot"] is True
    assert pod["runAsUser"] != 0
    assert container["allowPrivilegeEscalation"] is False
    assert container["readOnlyRootFilesystem"] is True
    assert container["capabilities"]["drop"] == ["ALL"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_compactor_deletes_after_the_stacks_retention(stack: str) -> None:
    profile = settings(stack).logs
    loki = logs.chart_values(profile, BUCKET)["loki"]
    assert loki["compactor"]["retention_enabled"] is True
    assert loki["limits_config"]["retention_period"] == f"{profile.retention_days * 24}h"
    # Retention needs a 24h index period (retention.md:91-93).
    (schema,) = loki["schemaConfig"]["configs"]
    assert (schema["index"]["period"], schema["store"], schema["object_store"]) == ("24h", "tsdb", "s3")


def test_prod_keeps_logs_longer_than_staging() -> None:
    staging, prod = (settings(s).logs.retention_days for s in ("staging", "prod"))
    assert staging < prod
    assert prod >= settings("prod").slo.window_days


def test_chunks_go_to_the_bucket_with_the_key_from_the_secret() -> None:
    values = logs.chart_values(settings("staging").logs, BUCKET)
    storage = values["loki"]["storage"]
    assert storage["bucketNames"] == {"chunks": BUCKET}
    s3 = storage["s3"]
    assert (s3["endpoint"], s3["region"]) == ("storage.yandexcloud.net", "ru-central1")
    # Loki expands ${VAR} from its environment, filled from the Secret: no key in the values.
    assert s3["accessKeyId"] == f"${{{logs.ACCESS_KEY_ID_ENV}}}"
    assert s3["secretAccessKey"] == f"${{{logs.SECRET_ACCESS_KEY_ENV}}}"
    assert values["singleBinary"]["extraEnvFrom"] == [{"secretRef": {"name": logs.STORAGE_SECRET}}]


def test_the_rules_are_mounted_where_the_ruler_reads_the_one_tenants_rules() -> None:
    values = logs.chart_values(settings("staging").logs, BUCKET)
    ruler = values["loki"]["rulerConfig"]
    assert ruler["storage"] == {"type": "local", "local": {"directory": logs.RULES_DIRECTORY}}
    (mount,) = values["singleBinary"]["extraVolumeMounts"]
    (volume,) = values["singleBinary"]["extraVolumes"]
    assert mount["mountPath"] == f"{logs.RULES_DIRECTORY}/{logs.TENANT}"
    assert volume == {"name": mount["name"], "configMap": {"name": logs.RULES_CONFIG_MAP}}
    config_map = logs.rules_config_map(NAMING)
    assert config_map["metadata"]["namespace"] == MONITORING_NAMESPACE
    assert yaml.safe_load(config_map["data"][logs.RULES_FILE]) == logs.log_rules().render()


def test_the_ruler_sends_to_the_monitoring_stacks_alertmanager() -> None:
    url = logs.chart_values(settings("staging").logs, BUCKET)["loki"]["rulerConfig"]["alertmanager_url"]
    assert url == f"http://kube-prometheus-stack-alertmanager.{MONITORING_NAMESPACE}.svc:9093"


def test_grafana_reads_loki_under_the_uid_the_panels_name() -> None:
    profile = settings("staging").monitoring
    grafana = monitoring_stack.chart_values(profile, {})["grafana"]
    (source,) = grafana["additionalDataSources"]
    host, port = LOKI_SERVICE
    assert (source["type"], source["uid"]) == ("loki", LOKI_DATASOURCE_UID)
    assert source["url"] == f"http://{host}.{MONITORING_NAMESPACE}.svc:{port}"


def test_the_log_alert_reads_the_workers_streams_by_the_labels_the_collector_sets() -> None:
    (alert,) = logs.log_rules().alerts
    spec = manifests.AppSpec.of(settings("prod"))
    worker = manifests.worker_deployment(NAMING, spec, "image")
    app = worker["spec"]["template"]["metadata"]["labels"][NAME_LABEL]
    # The collector's stream labels: namespace, pod, container, app (the pod's name label).
    selector = re.fullmatch(
        r"sum\(count_over_time\(\{(?P<labels>[^}]*)\} \|~ `[^`]+` \[10m\]\)\) > 0", alert.expr
    )
    assert selector, alert.expr
    matchers = dict(re.findall(r'(\w+)="([^"]*)"', selector["labels"]))
    assert matchers == {"namespace": APP_NAMESPACE, "app": app}
    assert set(matchers) <= {"namespace", "pod", "container", "app"}


@pytest.mark.parametrize(
    ("line", "matches"),
    [
        # arq 0.26.3 worker.py:624-626, after its "%(asctime)s: " (logs.py:18).
        (
            "12:01:02:   3.20s ! 1f2e3d4c:run_generation_task failed, ConfigError: APP_SECRET_KEY is not set",
            True,
        ),
        # worker/main.py:99
        ("[worker] Error during task for project 6f1c: RateLimitError: 429", True),
        ("12:01:02:   3.20s ← 1f2e3d4c:run_generation_task ● {'success': True}", False),
        ("[worker] Task for project 6f1c finished. Success: True", False),
        ("[worker] Error: User 7 or Project 6f1c not found.", False),
    ],
)
def test_the_alert_matches_the_lines_the_worker_writes_on_an_exception(line: str, matches: bool) -> None:
    # LogQL's |~ is RE2; this pattern uses nothing Python's re reads differently.
    assert bool(re.search(logs.WORKER_ERROR_LINES, line)) is matches


def test_the_log_alert_is_labelled_annotated_and_routed_like_the_others() -> None:
    rendered = logs.log_rules().render()
    (group,) = rendered["groups"]
    (rule,) = group["rules"]
    assert rule["labels"]["severity"] == "warning"
    assert rule["labels"]["namespace"] == APP_NAMESPACE
    assert {"summary", "description", "runbook_url"} <= set(rule["annotations"])
    anchor = rule["annotations"]["runbook_url"].rsplit("#", 1)[1]
    runbook = (PROJECT_DIR / "docs" / "runbooks" / "alerts.md").read_text()
    assert f"\n## {rule['alert']}\n" in runbook
    assert anchor == rule["alert"].lower()


def test_loki_admits_the_collector_and_grafana_only_on_its_http_port() -> None:
    policy = logs.network_policy_manifest(NAMING)
    assert policy["metadata"]["namespace"] == MONITORING_NAMESPACE
    assert policy["spec"]["podSelector"] == {"matchLabels": logs.POD_SELECTOR}
    http, own = policy["spec"]["ingress"]
    assert http["ports"] == [{"port": LOKI_SERVICE[1], "protocol": "TCP"}]
    peers = [peer["podSelector"]["matchLabels"] for peer in http["from"]]
    assert peers == [logs.COLLECTOR_SELECTOR, logs.GRAFANA_SELECTOR]
    assert own["from"] == [{"podSelector": {"matchLabels": logs.POD_SELECTOR}}]


@pytest.mark.parametrize("stack", STACKS)
def test_the_bucket_is_encrypted_with_its_own_key_and_expires_chunks_after_the_retention(
    synthesized: Synth, stack: str
) -> None:
    synthesis = synthesized(stack)
    bucket = synthesis.one("yandex:index/storageBucket:StorageBucket", "logs-bucket").inputs
    key = synthesis.one("yandex:index/kmsSymmetricKey:KmsSymmetricKey", "logs-key")
    rule = bucket["serverSideEncryptionConfiguration"]["rule"]["applyServerSideEncryptionByDefault"]
    assert rule["sseAlgorithm"] == "aws:kms"
    assert rule["kmsMasterKeyId"] == synthesis.id_of(key)
    (chunks,) = (r for r in bucket["lifecycleRules"] if r["id"] == "expire-chunks-after-retention")
    retention = synthesis.settings.logs.retention_days
    assert chunks["prefix"] == logs.CHUNKS_PREFIX
    assert chunks["expiration"]["days"] == retention + logs.BACKSTOP_DAYS
    # The writer's only way in: an ACL grant on this bucket.
    writer = synthesis.one("yandex:index/iamServiceAccount:IamServiceAccount", "logs-writer")
    (grant,) = bucket["grants"]
    assert grant["id"] == synthesis.id_of(writer)
