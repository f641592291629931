"""The kubeconfig the Kubernetes provider uses to reach a Managed Kubernetes cluster.

It holds no credential: the project's own exec credential plugin,
`samokoder-infra kube-credential` (infra/ops/cli/kube_credential.py), gets a
short-lived IAM token through the yandexcloud SDK for whoever runs Pulumi (a
service account key in YC_SERVICE_ACCOUNT_KEY_FILE, a token in YC_IAM_TOKEN,
or the VM's metadata service): no `yc` needed. The command is found on PATH,
not by an absolute path (the kubeconfig is a stack output used on other
machines): operators activate the virtualenv, the workflows add `.venv/bin`
to PATH.
"""

from __future__ import annotations

import base64

import yaml

USER = "samokoder-infra"


def render_kubeconfig(cluster_name: str, endpoint: str, ca_certificate: str) -> str:
    if not endpoint.startswith("https://"):
        raise ValueError(f"cluster endpoint must be an https URL (got {endpoint!r})")
    ca = base64.b64encode(ca_certificate.encode()).decode()
    credential = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": "samokoder-infra",
        "args": ["kube-credential"],
        "interactiveMode": "Never",
        "provideClusterInfo": False,
    }
    cluster = {"server": endpoint, "certificate-authority-data": ca}
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": cluster}],
        "users": [{"name": USER, "user": {"exec": credential}}],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": USER}}],
        "current-context": cluster_name,
        "preferences": {},
    }
    return yaml.safe_dump(document, sort_keys=False)
