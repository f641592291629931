"""External Secrets objects that turn Lockbox secrets into Kubernetes Secrets, as plain dicts."""

from __future__ import annotations

from typing import Any

from infra.conventions import EXTERNAL_SECRETS_NAMESPACE, Naming
from infra.render.k8s import ours
from infra.render.secrets.catalog import Target

ESO_API = "external-secrets.io/v1"
STORE = "samokoder-lockbox"
READER_KEY_SECRET = "lockbox-reader-key"  # pragma: allowlist secret
READER_KEY_FIELD = "authorized-key.json"
# How soon a rotated value reaches the pods' Secrets.
REFRESH_INTERVAL = "1h"


def cluster_secret_store(naming: Naming, namespaces: list[str], api_endpoint: str) -> dict[str, Any]:
    """Lockbox as the source, read with the reader's authorized key, for the namespaces that need it."""
    key = {"name": READER_KEY_SECRET, "namespace": EXTERNAL_SECRETS_NAMESPACE, "key": READER_KEY_FIELD}
    lockbox = {"apiEndpoint": api_endpoint, "auth": {"authorizedKeySecretRef": key}}
    spec = {"provider": {"yandexlockbox": lockbox}, "conditions": [{"namespaces": sorted(namespaces)}]}
    return ours(ESO_API, "ClusterSecretStore", naming, STORE, "secrets", namespace=None, spec=spec)


def external_secret(naming: Naming, target: Target, lockbox_id: str) -> dict[str, Any]:
    """One Kubernetes Secret from entries of one Lockbox secret (its current version)."""
    data = [
        {"secretKey": secret_key, "remoteRef": {"key": lockbox_id, "property": entry}}
        for secret_key, entry in sorted(target.keys.items())
    ]
    spec_target: dict[str, Any] = {"name": target.name, "creationPolicy": "Owner"}
    if target.templates or target.type != "Opaque":
        spec_target["template"] = {
            "engineVersion": "v2",
            "type": target.type,
            # Keep the mapped keys and add the templated ones (which read them).
            "mergePolicy": "Merge",
            "data": dict(target.templates),
        }
    spec: dict[str, Any] = {
        "refreshInterval": REFRESH_INTERVAL,
        "secretStoreRef": {"kind": "ClusterSecretStore", "name": STORE},
        "target": spec_target,
        "data": data,
    }
    return ours(
        ESO_API, "ExternalSecret", naming, target.name, "secrets", namespace=target.namespace, spec=spec
    )
