"""Names, labels, selectors and keys: the one place that spells a value two places share.

A namespace and whoever addresses it, a Secret and the pods that read it, a scrape job
and the rules that select it, a pod's labels and the selectors of its Service, budget
and network policies: both sides import the name from here, and ``tests/test_couplings.py``
resolves every selector against the synthesized objects. This module imports nothing
from the project.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

PROJECT: Final = "samokoder"

Service = Literal["api", "worker", "frontend"]
SERVICES: tuple[Service, ...] = get_args(Service)

REGISTRY_HOST: Final = "cr.yandex"
# What an encrypted (`secure:`) value reads as offline: synth has no key to
# decrypt it, and a plain-text secret must never reach its output anyway.
REDACTED: Final = "[secret]"

# --- the stack's Pulumi config (Pulumi.<stack>.yaml) ---------------------------

CONFIG_NAMESPACE: Final = PROJECT


def config_key(name: str) -> str:
    return f"{CONFIG_NAMESPACE}:{name}"


RELEASE_KEY: Final = config_key("release")
RESTORE_KEY: Final = config_key("restore")
CUT_OVER_KEY: Final = config_key("cut_over")
ROTATION_KEY: Final = config_key("rotation")

# --- namespaces (one installation of each per stack's Kubernetes cluster) ------

APP_NAMESPACE: Final = "samokoder"
MONITORING_NAMESPACE: Final = "monitoring"
INGRESS_NAMESPACE: Final = "ingress-nginx"
CERT_MANAGER_NAMESPACE: Final = "cert-manager"
# The Barman Cloud plugin must run in the CloudNativePG operator's namespace.
DATABASE_OPERATOR_NAMESPACE: Final = "cnpg-system"
EXTERNAL_SECRETS_NAMESPACE: Final = "external-secrets"
# Flagger, the controller that judges and promotes the API's releases, and its loadtester.
FLAGGER_NAMESPACE: Final = "flagger"

# --- the app's objects ---------------------------------------------------------

DATABASE_CLUSTER: Final = "samokoder-db"
CONFIG_MAP: Final = "samokoder-config"
# The migration Job, its pods and their service account.
MIGRATION: Final = "samokoder-migrate"
# The named port of every app Service and container: probes, the Ingress and
# the ServiceMonitor address it by this name.
HTTP_PORT_NAME: Final = "http"
INGRESS_CLASS: Final = "nginx"
# The ingress controller's NodePorts (its Service, and the nodes' security group
# that admits clients through the load balancer to these two alone).
INGRESS_NODE_PORTS: Final = {"http": 30080, "https": 30443}
CLUSTER_ISSUER: Final = "letsencrypt"
# Redis in the app's namespace (the app cannot use a password or TLS): its
# StatefulSet, Service and pods are named this, and it answers on the plain port.
REDIS: Final = "samokoder-redis"
REDIS_PORT: Final = 6379

# Kubernetes Secrets: the External Secrets target and whoever reads it.
APP_SECRET: Final = "samokoder-app-secrets"  # pragma: allowlist secret (a Secret's name)
DB_OWNER_SECRET: Final = "samokoder-db-owner"  # pragma: allowlist secret (a Secret's name)
GRAFANA_ADMIN_SECRET: Final = "samokoder-grafana-admin"  # pragma: allowlist secret (a Secret's name)
ALERTMANAGER_RECEIVERS_SECRET: Final = "samokoder-alertmanager-receivers"  # pragma: allowlist secret
TLS_SECRET: Final = "samokoder-tls"  # pragma: allowlist secret (a Secret's name)

# --- monitoring: scrape jobs and the releases whose Services are addressed -----

# The ServiceMonitor sets this job on the API's series; the rules select it.
API_JOB: Final = "samokoder-api"
# The blackbox Probe's jobName; EndpointProbeFailing and the panels select it.
BLACKBOX_JOB: Final = "samokoder-blackbox"
BLACKBOX_RELEASE: Final = "samokoder-blackbox"
REDIS_EXPORTER_RELEASE: Final = "samokoder-redis-exporter"
# The Pushgateway the restore drill pushes its outcome to, through the API server's service proxy;
# the release holds the chart's name, so its Service is named after the release. The drill pushes
# under this job (the ServiceMonitor honours it) and its stack.
PUSHGATEWAY_RELEASE: Final = "prometheus-pushgateway"
PUSHGATEWAY_PORT: Final = 9091
DRILL_JOB: Final = "samokoder-restore-drill"
# Grafana's sidecar loads ConfigMaps carrying this label as dashboards.
DASHBOARD_LABEL: Final = "grafana_dashboard"

# --- logs: Loki and the collector on every node ---------------------------------

# Loki's Helm release, the Service the collector pushes to and Grafana reads
# (host, port), and the Grafana data source's uid that log panels name.
LOKI_RELEASE: Final = "loki"
LOKI_SERVICE: Final = ("loki", 3100)
LOKI_DATASOURCE_UID: Final = "loki"
# The log collector's Helm release (a DaemonSet on every node).
LOG_COLLECTOR_RELEASE: Final = "alloy"

# --- labels and selectors -------------------------------------------------------

NAME_LABEL: Final = "app.kubernetes.io/name"
PART_OF_LABEL: Final = "app.kubernetes.io/part-of"
COMPONENT_LABEL: Final = "app.kubernetes.io/component"


def workload_name(service: str) -> str:
    """The Deployment, Service and pod name of an app service, e.g. ``samokoder-api``."""
    return f"{PROJECT}-{service}"


def canary_name(service: str) -> str:
    """Flagger's Service (and Ingress) for a release under analysis
    (pkg/apis/flagger/v1beta1/canary.go:608-615 at v1.44.0)."""
    return f"{workload_name(service)}-canary"


def primary_name(service: str) -> str:
    """Flagger's Deployment, Service and autoscaler for the promoted release
    (pkg/canary/deployment_controller.go:236 at v1.44.0)."""
    return f"{workload_name(service)}-primary"


def pod_selector(name: str) -> dict[str, str]:
    return {NAME_LABEL: name, PART_OF_LABEL: PROJECT}


def component_selector(component: str) -> dict[str, str]:
    return {PART_OF_LABEL: PROJECT, COMPONENT_LABEL: component}


# Label values are at most 63 characters (Kubernetes), and the instance label is
# "<object name>-<stack>": object names and stack names share that room.
MAX_LABEL_VALUE: Final = 63
# The longest object names carry a 12-digit migration revision (samokoder-db-pre-migration-<rev>).
MAX_OBJECT_NAME: Final = 40
MAX_STACK_NAME: Final = MAX_LABEL_VALUE - 1 - MAX_OBJECT_NAME


@dataclass(frozen=True)
class Naming:
    """Naming of one stack's resources; components get it instead of the stack name."""

    stack: str

    @property
    def prefix(self) -> str:
        return f"{PROJECT}-{self.stack}"

    def cloud(self, component: str) -> str:
        return f"{self.prefix}-{component}"

    def cloud_labels(self, component: str) -> dict[str, str]:
        # Yandex Cloud label keys and values: lowercase, digits, '-', '_'.
        return {
            "project": PROJECT,
            "environment": self.stack,
            "component": component,
            "managed-by": "pulumi",
        }

    def k8s_labels(self, name: str, component: str) -> dict[str, str]:
        if len(name) > MAX_OBJECT_NAME:
            # The instance label would outgrow what the API server accepts for some stack.
            raise ValueError(f"object name {name!r} is over {MAX_OBJECT_NAME} characters")
        return {
            NAME_LABEL: name,
            "app.kubernetes.io/instance": f"{name}-{self.stack}",
            COMPONENT_LABEL: component,
            PART_OF_LABEL: PROJECT,
            "app.kubernetes.io/managed-by": "pulumi",
        }


def image_reference(registry_id: str, repository: str, digest: str) -> str:
    """``cr.yandex/<registry id>/<repository>@sha256:<digest>``: never a tag."""
    return f"{REGISTRY_HOST}/{registry_id}/{repository}@{digest}"
