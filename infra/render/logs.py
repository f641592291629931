"""Loki as plain data: the chart's values, its rules, the object that carries them and its NetworkPolicy.

One Loki pod per stack, the chart's Monolithic mode: the platform's few pods write far below the
"few tens of GB/day" the chart gives that mode (values.yaml:62 at loki-18.11.0, the chart
infra/render/charts.py pins; every ``values.yaml:N`` below is that file). Chunks and the index go
to the stack's Object Storage bucket, so the pod's volume holds only the write-ahead log and what
is not shipped yet. Retention is the compactor's; the bucket's own expiry is a backstop.

Loki's ruler evaluates the log-based alerts (what no metric tells) and sends them to
kube-prometheus-stack's Alertmanager, which routes them like every other alert.
"""

from __future__ import annotations

from typing import Any, Final

import yaml

from infra.conventions import (
    APP_NAMESPACE,
    LOG_COLLECTOR_RELEASE,
    LOKI_RELEASE,
    LOKI_SERVICE,
    MONITORING_NAMESPACE,
    NAME_LABEL,
    Naming,
    workload_name,
)
from infra.render import charts
from infra.render.database.plan import S3_ENDPOINT, S3_REGION
from infra.render.k8s import dns_ports, namespace_peer, network_policy, ours, ports, rule
from infra.render.monitoring.rules import Alert, RuleFile, RuleGroup
from infra.settings.logs import LogsProfile

INSTANCE_LABEL: Final = "app.kubernetes.io/instance"
COMPONENT_LABEL: Final = "app.kubernetes.io/component"
HTTP_PORT: Final = LOKI_SERVICE[1]
# loki.server.grpc_listen_port (values.yaml:583) and memberlist's port (values.yaml:562-565).
GRPC_PORT: Final = 9095
MEMBERLIST_PORT: Final = 7946
HTTPS: Final = 443
# The single binary's pods: loki.labels and the target as component (templates/_pod.tpl:22-24,
# _helpers.tpl:153-156); the release holds the chart's name, so the name label is "loki".
POD_SELECTOR: Final = {
    NAME_LABEL: charts.LOKI.name,
    INSTANCE_LABEL: LOKI_RELEASE,
    COMPONENT_LABEL: "single-binary",
}
# The grafana/alloy chart's selector labels (app.kubernetes.io/name and instance, the release).
COLLECTOR_SELECTOR: Final = {NAME_LABEL: "alloy", INSTANCE_LABEL: LOG_COLLECTOR_RELEASE}
# kube-prometheus-stack's Grafana (grafana chart 12.10.0 templates/_helpers.tpl:81-84).
GRAFANA_SELECTOR: Final = {NAME_LABEL: "grafana", INSTANCE_LABEL: charts.KUBE_PROMETHEUS_STACK.name}
# prometheus-operator's Alertmanager pods (infra/render/workloads/upstream_pods.py).
ALERTMANAGER_SELECTOR: Final = {NAME_LABEL: "alertmanager"}
ALERTMANAGER_PORT: Final = 9093
# The Service "<fullname>-alertmanager" (templates/alertmanager/service.yaml:6) on
# alertmanager.service.port (values.yaml:838 at kube-prometheus-stack-88.0.0).
ALERTMANAGER_URL: Final = (
    f"http://{charts.KUBE_PROMETHEUS_STACK.name}-alertmanager.{MONITORING_NAMESPACE}.svc:{ALERTMANAGER_PORT}"
)

# With auth_enabled false every request is the tenant "fake" (pkg/util/fakeauth/fake_auth.go:53 at
# grafana/loki v3.7.6): its chunks are keyed "<tenant>/<fingerprint>/..."
# (pkg/storage/config/schema_config.go:784), its rules read from <directory>/<tenant>/
# (pkg/ruler/rulestore/local/local.go:139).
TENANT: Final = "fake"
CHUNKS_PREFIX: Final = f"{TENANT}/"
RULES_DIRECTORY: Final = "/etc/loki/rules"
RULES_CONFIG_MAP: Final = "loki-rules"
RULES_FILE: Final = "samokoder.yaml"
# The bucket's static key, delivered as a Secret the pod reads into its environment; Loki expands
# ${VAR} in its configuration (-config.expand-env=true, templates/_pod.tpl:211).
STORAGE_SECRET: Final = "loki-object-storage"  # pragma: allowlist secret (a Secret's name)
ACCESS_KEY_ID_ENV: Final = "LOKI_S3_ACCESS_KEY_ID"
SECRET_ACCESS_KEY_ENV: Final = "LOKI_S3_SECRET_ACCESS_KEY"  # pragma: allowlist secret (a variable's name)
# The first day of the schema: before the first install of any stack.
SCHEMA_FROM: Final = "2026-01-01"
# The bucket expires chunks this long after the compactor should have deleted them.
BACKSTOP_DAYS: Final = 7

WORKER_ERRORS: Final = "WorkerJobErrors"
# What the worker writes when a job ends in an exception (docs/app-contract.md): arq logs
# "<secs>s ! <job id>:<function> failed, <Exception>: <message>" and the traceback
# (arq 0.26.3 worker.py:624-626, the app's poetry.lock), and the task itself catches the
# orchestrator's exceptions and prints "[worker] Error during task for project <id>: <error>"
# (worker/main.py:98-99): the job then "succeeds", so no metric sees it.
WORKER_ERROR_LINES: Final = r"! \S+:run_generation_task failed, |\[worker\] Error during task for project "
ERROR_WINDOW: Final = "10m"


def worker_stream() -> str:
    """The worker's log streams, by the labels the collector sets (namespace, app)."""
    return f'{{namespace="{APP_NAMESPACE}", app="{workload_name("worker")}"}}'


def worker_errors_expr() -> str:
    matched = f"{worker_stream()} |~ `{WORKER_ERROR_LINES}`"
    return f"sum(count_over_time({matched} [{ERROR_WINDOW}])) > 0"


def log_rules() -> RuleFile:
    """The alerts Loki's ruler evaluates on the platform's logs."""
    failed = Alert(
        WORKER_ERRORS,
        worker_errors_expr(),
        "warning",
        summary="Worker jobs end in exceptions",
        description=f"The worker logged {{{{ $value }}}} failed generation jobs in the last {ERROR_WINDOW}: "
        "users' projects stop half-way. Its logs in Grafana (Explore, Loki) carry the traceback.",
        labels={"service": "worker"},
    )
    return RuleFile("logs", (RuleGroup("samokoder-logs", (failed,), interval="1m"),))


def rules_config_map(naming: Naming) -> dict[str, Any]:
    """The rule file, mounted where the ruler's local store reads the tenant's rules."""
    # One line per expression: what an operator reads with kubectl is what the ruler parses.
    text = yaml.safe_dump(log_rules().render(), sort_keys=False, width=1000)
    return ours(
        "v1",
        "ConfigMap",
        naming,
        RULES_CONFIG_MAP,
        "logs",
        namespace=MONITORING_NAMESPACE,
        data={RULES_FILE: text},
    )


def storage_secret_metadata(naming: Naming) -> dict[str, Any]:
    labels = naming.k8s_labels(STORAGE_SECRET, "logs")
    return {"name": STORAGE_SECRET, "namespace": MONITORING_NAMESPACE, "labels": labels}


def _loki(profile: LogsProfile, bucket: str) -> dict[str, Any]:
    """The ``loki`` block: one tenant, the bucket, the retention, the ruler."""
    retention = f"{profile.retention_days * 24}h"
    s3 = {
        "endpoint": S3_ENDPOINT.removeprefix("https://"),
        "region": S3_REGION,
        "accessKeyId": f"${{{ACCESS_KEY_ID_ENV}}}",
        "secretAccessKey": f"${{{SECRET_ACCESS_KEY_ENV}}}",
    }
    schema = {"from": SCHEMA_FROM, "store": "tsdb", "object_store": "s3", "schema": "v13"}
    return {
        # One tenant: the collector and Grafana send no org id (values.yaml:555).
        "auth_enabled": False,
        # One pod keeps one copy; the bucket is the durable one (values.yaml:619).
        "commonConfig": {"replication_factor": 1},
        # values.yaml:626-643; the chunks bucket is required with s3 (templates/_helpers.tpl:242).
        "storage": {"type": "s3", "bucketNames": {"chunks": bucket}, "s3": s3},
        # A 24h index period, which retention needs (values.yaml:767; retention.md:91-93).
        "schemaConfig": {"configs": [{**schema, "index": {"prefix": "loki_index_", "period": "24h"}}]},
        # The compactor deletes what is older than the retention (values.yaml:818, 606;
        # retention.md:95-97: delete requests need a store).
        "compactor": {"retention_enabled": True, "delete_request_store": "s3"},
        "limits_config": {"retention_period": retention},
        # Loki reports usage to Grafana Labs every 4 hours by default (pkg/analytics/reporter.go:52,
        # 61 at v3.7.6), which the policy's HTTPS egress for the bucket would let out (values.yaml:828).
        "analytics": {"reporting_enabled": False},
        # values.yaml:787-793: rules from the local directory the ConfigMap is mounted in; the
        # ruler writes its temporary files to the volume (the root filesystem is read-only).
        "rulerConfig": {
            "storage": {"type": "local", "local": {"directory": RULES_DIRECTORY}},
            "rule_path": "/var/loki/rules-temp",
            # Alertmanager's API v2, the ruler's default (pkg/ruler/base/ruler.go:174 at v3.7.6).
            "alertmanager_url": ALERTMANAGER_URL,
        },
    }


def _single_binary(profile: LogsProfile) -> dict[str, Any]:
    r = profile.resources
    resources = {
        "requests": {"cpu": f"{r.cpu_request_m}m", "memory": f"{r.memory_request_mib}Mi"},
        "limits": {"cpu": f"{r.cpu_limit_m}m", "memory": f"{r.memory_limit_mib}Mi"},
    }
    return {
        "replicas": 1,  # values.yaml:1884 (0 by default)
        "resources": resources,  # values.yaml:2045
        "persistence": {"size": f"{profile.storage_gb}Gi", "storageClass": profile.storage_class},
        # values.yaml:2032, 2040-2042: the bucket's key and the rule file.
        "extraEnvFrom": [{"secretRef": {"name": STORAGE_SECRET}}],
        "extraVolumes": [{"name": "rules", "configMap": {"name": RULES_CONFIG_MAP}}],
        "extraVolumeMounts": [
            {"name": "rules", "mountPath": f"{RULES_DIRECTORY}/{TENANT}", "readOnly": True}
        ],
    }


def chart_values(profile: LogsProfile, bucket: str) -> dict[str, Any]:
    """Helm values of the Loki release; the chart's pod and container security contexts
    (values.yaml:275-293) already run it restricted, and are kept."""
    off = {"enabled": False}
    return {
        "deploymentMode": "Monolithic",  # values.yaml:70
        "loki": _loki(profile, bucket),
        "singleBinary": _single_binary(profile),
        # The simple-scalable targets default to 3 pods each (values.yaml:2146, 2415, 2653), and the
        # chart refuses to render a monolithic replica beside any of them unless the mode is a
        # transitional one (templates/validate.yaml:15, 34-36): the install would fail.
        "write": {"replicas": 0},
        "read": {"replicas": 0},
        "backend": {"replicas": 0},
        # The collector and Grafana talk to Loki's own Service: no nginx gateway (values.yaml:1215),
        # no canary DaemonSet (928), no Helm test pod (894), no memcached caches for one small
        # pod (6331, 6489), no MinIO (6856), no rules sidecar with cluster-wide read access to
        # ConfigMaps and Secrets (7000-7001) and so no ClusterRole (rbac.namespaced,
        # values.yaml:1139; templates/backend/clusterrole.yaml:1).
        "gateway": off,
        "lokiCanary": off,
        "test": off,
        "resultsCache": off,
        "chunksCache": off,
        "minio": off,
        "sidecar": {"rules": off},
        "rbac": {"namespaced": True},
        # Loki reads nothing from the Kubernetes API (values.yaml:1130).
        "serviceAccount": {"automountServiceAccountToken": False},
    }


def network_policy_manifest(naming: Naming) -> dict[str, Any]:
    """Loki admits the collector and Grafana, and calls DNS, Object Storage and Alertmanager."""
    loki = {"podSelector": {"matchLabels": POD_SELECTOR}}
    # The collector's namespace is its release's to choose: its pods, wherever they run.
    collector = {"namespaceSelector": {}, "podSelector": {"matchLabels": COLLECTOR_SELECTOR}}
    grafana = namespace_peer(MONITORING_NAMESPACE, GRAFANA_SELECTOR)
    alertmanager = namespace_peer(MONITORING_NAMESPACE, ALERTMANAGER_SELECTOR)
    anywhere = {"ipBlock": {"cidr": "0.0.0.0/0"}}
    ingress = [
        rule([collector, grafana], ports(HTTP_PORT), "ingress"),
        # The single binary joins its own memberlist ring through the memberlist Service
        # (values.yaml:354-355, _helpers.tpl:550-556) and calls its own compactor through its
        # Service's gRPC port (values.yaml:622, _helpers.tpl:1003-1015).
        rule([loki], ports(GRPC_PORT, MEMBERLIST_PORT), "ingress"),
    ]
    egress = [
        rule([namespace_peer("kube-system")], dns_ports(), "egress"),
        # Object Storage's public addresses (infra/render/database/plan.py S3_ENDPOINT).
        rule([anywhere], ports(HTTPS), "egress"),
        rule([alertmanager], ports(ALERTMANAGER_PORT), "egress"),
        rule([loki], ports(GRPC_PORT, MEMBERLIST_PORT), "egress"),
    ]
    return network_policy(
        naming, "loki", {"matchLabels": POD_SELECTOR}, ingress, egress, namespace=MONITORING_NAMESPACE
    )
