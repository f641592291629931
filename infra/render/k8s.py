"""What every Kubernetes object the renderers return is made of: its header, our metadata, policy peers."""

from __future__ import annotations

from typing import Any

from infra.conventions import APP_NAMESPACE, Naming

Manifest = dict[str, Any]


def manifest(api_version: str, kind: str, metadata: Manifest, **fields: Any) -> Manifest:
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **fields}


def metadata(naming: Naming, name: str, component: str, namespace: str | None = APP_NAMESPACE) -> Manifest:
    """Name, namespace (none for a cluster-wide object) and the project's labels for ``component``."""
    found: Manifest = {"name": name, "labels": naming.k8s_labels(name, component)}
    if namespace:
        found["namespace"] = namespace
    return found


def ours(
    api_version: str,
    kind: str,
    naming: Naming,
    name: str,
    component: str,
    *,
    namespace: str | None = APP_NAMESPACE,
    **fields: Any,
) -> Manifest:
    """An object labelled as the project labels its own."""
    return manifest(api_version, kind, metadata(naming, name, component, namespace), **fields)


def namespace_peer(name: str, labels: dict[str, str] | None = None) -> Manifest:
    """A NetworkPolicy peer: the namespace by its standard name label, and its pods with ``labels``."""
    peer: Manifest = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}
    if labels is not None:
        peer["podSelector"] = {"matchLabels": labels}
    return peer


def ports(*numbers: int, protocol: str = "TCP") -> list[Manifest]:
    return [{"port": number, "protocol": protocol} for number in numbers]


def dns_ports() -> list[Manifest]:
    """The cluster DNS answers on 53 over UDP and, for long answers, TCP."""
    return [*ports(53, protocol="UDP"), *ports(53)]


def rule(peers: list[Manifest], port_list: list[Manifest], direction: str) -> Manifest:
    return {("from" if direction == "ingress" else "to"): peers, "ports": port_list}


def network_policy(
    naming: Naming,
    name: str,
    chosen: Manifest,
    ingress: list[Manifest],
    egress: list[Manifest],
    *,
    namespace: str = APP_NAMESPACE,
    deny: bool = False,
) -> Manifest:
    """A policy of the directions it has rules for; ``deny``: both directions, no rules (deny all)."""
    types = [t for t, rules in (("Ingress", ingress), ("Egress", egress)) if rules or deny]
    spec: Manifest = {"podSelector": chosen, "policyTypes": types}
    if ingress:
        spec["ingress"] = ingress
    if egress:
        spec["egress"] = egress
    return ours(
        "networking.k8s.io/v1",
        "NetworkPolicy",
        naming,
        name,
        "network-policy",
        namespace=namespace,
        spec=spec,
    )
