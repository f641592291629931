"""The kubeconfig the Kubernetes provider uses to reach a Managed Kubernetes cluster.

It holds no credential: `yc k8s create-token` issues a short-lived IAM token
for whoever runs Pulumi (an operator's `yc` profile, or CI's service account).
"""

from __future__ import annotations

import base64

import yaml


def render_kubeconfig(cluster_name: str, endpoint: str, ca_certificate: str) -> str:
    if not endpoint.startswith("https://"):
        raise ValueError(f"cluster endpoint must be an https URL (got {endpoint!r})")
    ca = base64.b64encode(ca_certificate.encode()).decode()
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": ca}}
        ],
        "users": [
            {
                "name": "yc",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "yc",
                        "args": ["k8s", "create-token"],
                        "interactiveMode": "Never",
                    }
                },
            }
        ],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": "yc"}}],
        "current-context": cluster_name,
        "preferences": {},
    }
    return yaml.safe_dump(document, sort_keys=False)
