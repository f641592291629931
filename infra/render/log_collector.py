"""The log collector: Grafana Alloy's chart values, its pods' labels and its NetworkPolicy.

A DaemonSet, so every node's containers are read by a collector on that node.
It reads the one host path the logs are in, read-only, and nothing else of the
node; it runs as root there, with no capability, because the runtime writes the
files for root (the exception infra/policy/exceptions.py names). Its config is
infra/render/alloy_config.py's.

Every value names its line in grafana/alloy's operations/helm/charts/alloy/values.yaml
at tag helm-chart/1.11.1, the version infra/render/charts.py pins ("values.yaml"
below); templates under templates/ there.
"""

from __future__ import annotations

from typing import Any, Final

from infra.conventions import (
    LOG_COLLECTOR_RELEASE,
    LOKI_RELEASE,
    LOKI_SERVICE,
    MONITORING_NAMESPACE,
    NAME_LABEL,
    Naming,
)
from infra.render import charts
from infra.render.alloy_config import POD_LOGS, config
from infra.render.k8s import dns_ports, namespace_peer, network_policy, ports, rule

INSTANCE: Final = "app.kubernetes.io/instance"
# The pods' labels: the chart's selector labels, its name and the release (templates/controllers/
# _pod.yaml:12-13, _helpers.tpl:70-73); the DaemonSet is named after the release, which holds the
# chart's name (templates/controllers/daemonset.yaml:5, _helpers.tpl:13-19).
POD_LABELS: Final = {NAME_LABEL: charts.ALLOY.name, INSTANCE: LOG_COLLECTOR_RELEASE}
DAEMON_SET: Final = LOG_COLLECTOR_RELEASE
# Where Alloy keeps the files' positions (values.yaml:60-62, the chart's default): an emptyDir, the
# one place it writes. It outlives a container restart, not the pod's: a new pod reads its node's
# files again from the start (loki.source.file.md:42-49), which Loki takes as repeats of what it has.
STORAGE: Final = "/tmp/alloy"
POD_LOGS_VOLUME: Final = "pod-logs"
# The port its UI, readiness and metrics answer on (values.yaml:71-72).
HTTP_PORT: Final = 12345
# Yandex Managed Kubernetes' master serves the API on 443 and 6443 (upstream_pods.KUBE_API_PORTS, which
# imports this module's labels).
KUBE_API_PORTS: Final = (443, 6443)
ANYWHERE: Final = {"ipBlock": {"cidr": "0.0.0.0/0"}}
# What discovery.kubernetes' pod role calls: list and watch pods (and get).
POD_RULE: Final = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}
# Loki's pods, by the instance label Helm charts set to the release's name.
LOKI_PODS: Final = {INSTANCE: LOKI_RELEASE}

# Root: the runtime writes the log files for root, readable by their owner. Nothing more of root's
# power: no capability, no escalation, a read-only root file system.
ROOT_CONTEXT: Final = {
    "runAsUser": 0,
    "runAsGroup": 0,
    "runAsNonRoot": False,
    "readOnlyRootFilesystem": True,
    "allowPrivilegeEscalation": False,
    "privileged": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def _volumes() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The pod's extra volumes and the container's mounts of them: the logs read-only, the positions."""
    logs: dict[str, Any] = {"name": POD_LOGS_VOLUME, "hostPath": {"path": POD_LOGS, "type": "Directory"}}
    storage: dict[str, Any] = {"name": "storage", "emptyDir": {"sizeLimit": "256Mi"}}
    mounts: list[dict[str, Any]] = [
        {"name": POD_LOGS_VOLUME, "mountPath": POD_LOGS, "readOnly": True},
        {"name": "storage", "mountPath": STORAGE},
    ]
    return [logs, storage], mounts


def values() -> dict[str, Any]:
    """The chart's values: a DaemonSet of Alloy with our config, the logs mount, least access."""
    volumes, mounts = _volumes()
    return {
        # :27-29: the chart's PodLogs CRD serves loki.source.podlogs, which the config does not use.
        "crds": {"create": False},
        "alloy": {
            # :35-39: the config (passed through Helm's tpl: it holds no "{{").
            "configMap": {"create": True, "content": config()},
            # :60-62 (default) and :86-88: no usage report leaves the cluster (nor may it: its policy).
            "storagePath": STORAGE,
            "enableReporting": False,
            # :122-131: not the chart's switch for all of /var/log (:124, a hostPath of the whole
            # directory, templates/controllers/_pod.yaml:76-80); the pods' logs alone, read-only.
            "mounts": {"varlog": False, "dockercontainers": False, "extra": mounts},
            # :133-134.
            "securityContext": dict(ROOT_CONTEXT),
            # :136-137: one node's files; the chart sets none.
            "resources": {
                "requests": {"cpu": "50m", "memory": "128Mi"},
                "limits": {"cpu": "500m", "memory": "512Mi"},
            },
            # :147-148 (none by default); the chart's readiness probe is /-/ready on the same port
            # (templates/containers/_agent.yaml:65-73).
            "livenessProbe": {
                "httpGet": {"path": "/-/ready", "port": HTTP_PORT},
                "periodSeconds": 30,
                "failureThreshold": 5,
            },
        },
        # :245-247: a config change rolls the pods through the checksum annotation instead
        # (templates/controllers/_pod.yaml:6-8); one container and one image fewer.
        "configReloader": {"enabled": False},
        # :174-229: discovery.kubernetes' pod role lists and watches pods, nothing else; no node
        # role, no attach_metadata, no kubelet. One ClusterRole holds both lists, each written with
        # toYaml under "rules:" (templates/rbac.yaml:46-49): an empty list renders "[]" after the
        # other's items, which is no YAML, and the install fails. So both name the pods' rule, and
        # the role is that rule.
        "rbac": {"create": True, "rules": [dict(POD_RULE)], "clusterRules": [dict(POD_RULE)]},
        "controller": {
            # :279-282 (the default): a pod on every node. The nodes carry no taints (components/
            # kubernetes_cluster.py), and the DaemonSet controller tolerates the node-condition ones itself.
            "type": "daemonset",
            # :300-304 (defaults): the pod's own network and process namespaces.
            "hostNetwork": False,
            "hostPID": False,
            # :478-480.
            "volumes": {"extra": volumes},
        },
        # :509-511: nothing calls it; the kubelet probes the pod directly.
        "service": {"enabled": False},
    }


def collector_policy(naming: Naming) -> dict[str, Any]:
    """The collector calls three things: Loki's push API, the Kubernetes API (discovery), the DNS.

    Nothing calls it (the kubelet's probes come from its node, which a NetworkPolicy never blocks).
    """
    return network_policy(
        naming,
        LOG_COLLECTOR_RELEASE,
        {"matchLabels": dict(POD_LABELS)},
        [],
        [
            rule([namespace_peer(MONITORING_NAMESPACE, LOKI_PODS)], ports(LOKI_SERVICE[1]), "egress"),
            rule([ANYWHERE], ports(*KUBE_API_PORTS), "egress"),
            rule([namespace_peer("kube-system")], dns_ports(), "egress"),
        ],
        namespace=MONITORING_NAMESPACE,
        deny=True,
    )
