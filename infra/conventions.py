"""Names, labels and selectors: the one place that spells them.

Cloud resources are named ``samokoder-<stack>-<component>``; Kubernetes
objects carry the ``app.kubernetes.io/*`` recommended labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

PROJECT = "samokoder"

Service = Literal["api", "worker", "frontend"]
SERVICES: tuple[Service, ...] = get_args(Service)

REGISTRY_HOST = "cr.yandex"
# What an encrypted (`secure:`) value reads as offline: synth has no key to
# decrypt it, and a plain-text secret must never reach its output anyway.
REDACTED = "[secret]"

# The app's namespace and its CloudNativePG cluster: one of each per stack's Kubernetes cluster.
APP_NAMESPACE = "samokoder"
DATABASE_CLUSTER = "samokoder-db"


@dataclass(frozen=True)
class Naming:
    """Naming of one stack's resources; components get it instead of the stack name."""

    stack: str

    @property
    def prefix(self) -> str:
        return f"{PROJECT}-{self.stack}"

    def cloud(self, component: str) -> str:
        """Name of a cloud resource, e.g. ``samokoder-prod-network``."""
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
        return {
            "app.kubernetes.io/name": name,
            "app.kubernetes.io/instance": f"{name}-{self.stack}",
            "app.kubernetes.io/component": component,
            "app.kubernetes.io/part-of": PROJECT,
            "app.kubernetes.io/managed-by": "pulumi",
        }


def image_reference(registry_id: str, repository: str, digest: str) -> str:
    """``cr.yandex/<registry id>/<repository>@sha256:<digest>``: never a tag."""
    return f"{REGISTRY_HOST}/{registry_id}/{repository}@{digest}"
