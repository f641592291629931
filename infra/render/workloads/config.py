"""The app's non-secret configuration: a ConfigMap with every variable the contract says it reads.

Names and meanings come from infra/app_contract.py; the secret ones
(SECRET_KEY, APP_SECRET_KEY, SAMOKODER_DATABASE_URL) come from the Secret
External Secrets keeps. Redis, in the app's namespace, has no password: its
address is plain configuration.
"""

from __future__ import annotations

from typing import Any

from infra import app_contract as app
from infra.conventions import CONFIG_MAP, Naming
from infra.render import redis
from infra.render.k8s import ours
from infra.render.workloads.manifests import AppSpec


def config_map(naming: Naming, spec: AppSpec) -> dict[str, Any]:
    host, port = redis.address()
    data = {
        app.ENVIRONMENT.name: spec.workloads.environment,
        # The site calls the API on its own origin; CORS matters only for other origins.
        app.CORS_ORIGINS.name: f"https://{spec.domain}",
        app.CONFIG_DIR.name: "/app/config",
        # Only ingress-nginx reaches the API's port (its NetworkPolicy): trust its
        # X-Forwarded-For, so that rate limits count clients, not the controller.
        app.FORWARDED_ALLOW_IPS.name: "*",
        app.DISABLE_TELEMETRY.name: "1",
        app.REDIS_HOST.name: host,
        app.REDIS_PORT.name: str(port),
        app.REDIS_URL.name: f"redis://{host}:{port}/0",
    }
    return ours("v1", "ConfigMap", naming, CONFIG_MAP, "config", data=dict(sorted(data.items())))
