"""Redis in the app's namespace, as plain Kubernetes objects: one pod, its queue on a volume.

The app connects with REDIS_HOST and REDIS_PORT only, without a password or
TLS (infra/app_contract.py), so this Redis has neither; the NetworkPolicy
``network_policies.redis`` lets only the api, the worker and the exporter
reach it. Jobs survive a restart in the append-only file.
"""

from __future__ import annotations

from typing import Any, Final

from infra.conventions import APP_NAMESPACE, REDIS, REDIS_PORT, Naming, pod_selector
from infra.render.k8s import ours
from infra.render.workloads.security import container_security, pod_security
from infra.settings.workloads import RedisProfile

# Redis 7.2 (BSD-licensed, the line the app and Managed Redis run), pinned by digest:
# the tag as resolved on 2026-10-08 by public projects; verify with `crane digest`.
DIGEST: Final = "sha256:29e8589c3f9ba699b5f7aa4b3c7733c58852a3626439e619aa0ee78de08c6ca0"
IMAGE: Final = f"docker.io/library/redis:7.2-alpine@{DIGEST}"
DATA: Final = "/data"
PORT_NAME: Final = "redis"


def address() -> tuple[str, int]:
    """Host and port the app's pods reach Redis at."""
    return f"{REDIS}.{APP_NAMESPACE}.svc", REDIS_PORT


def stateful_set(naming: Naming, profile: RedisProfile) -> dict[str, Any]:
    labels = naming.k8s_labels(REDIS, "queue")
    memory = f"{profile.memory_mib}Mi"
    # Headroom over maxmemory for the process itself and the AOF rewrite's buffers.
    limit = f"{profile.memory_mib * 3 // 2}Mi"
    command = [
        "redis-server",
        "--port", str(REDIS_PORT),
        "--dir", DATA,
        "--appendonly", "yes",
        "--maxmemory", f"{profile.memory_mib * 1024 * 1024}",
        # A queue must not lose jobs to eviction: writes fail instead, and an alert says so.
        "--maxmemory-policy", "noeviction",
        # No password (the app cannot send one): the NetworkPolicy is the fence, so
        # protected mode, which refuses every non-loopback client, is off.
        "--protected-mode", "no",
    ]  # fmt: skip
    probe = {"tcpSocket": {"port": PORT_NAME}, "periodSeconds": 10, "timeoutSeconds": 3}
    return ours(
        "apps/v1",
        "StatefulSet",
        naming,
        REDIS,
        "queue",
        spec={
            "serviceName": REDIS,
            "replicas": 1,
            "selector": {"matchLabels": pod_selector(REDIS)},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": pod_security(),
                    "containers": [
                        {
                            "name": "redis",
                            "image": IMAGE,
                            "command": command,
                            "ports": [{"name": PORT_NAME, "containerPort": REDIS_PORT}],
                            "resources": {
                                "requests": {"cpu": "50m", "memory": memory},
                                "limits": {"cpu": "500m", "memory": limit},
                            },
                            "readinessProbe": probe,
                            "livenessProbe": {**probe, "initialDelaySeconds": 15},
                            "securityContext": container_security(),
                            "volumeMounts": [{"name": "data", "mountPath": DATA}],
                        }
                    ],
                },
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data", "labels": labels},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "storageClassName": profile.storage_class,
                        "resources": {"requests": {"storage": f"{profile.storage_gb}Gi"}},
                    },
                }
            ],
        },
    )


def service(naming: Naming) -> dict[str, Any]:
    port = {"name": PORT_NAME, "port": REDIS_PORT, "targetPort": PORT_NAME, "protocol": "TCP"}
    spec = {"selector": pod_selector(REDIS), "ports": [port]}
    return ours("v1", "Service", naming, REDIS, "queue", spec=spec)
