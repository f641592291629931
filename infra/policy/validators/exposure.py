"""What the cluster serves, and to whom: no public database, TLS on every Ingress, no trusted connection."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from infra.policy.validators.common import Report, ResourceArgs, _kind, _mappings, _patch
from infra.policy.validators.network import DATABASE_PORTS
from infra.policy.validators.values import leaves, value_leaves, value_mappings

# Service types that answer outside the cluster (Kubernetes' Service API: `spec.type`).
OUTSIDE = frozenset({"LoadBalancer", "NodePort"})


# What names a database's pods: CloudNativePG labels them under its `cnpg.io/` namespace
# (`cnpg.io/cluster`, `cnpg.io/poolerName`: cloudnative-pg v1.30.0 pkg/utils/labels_annotations.go:79,104),
# and this program's names say what a workload is.
DATABASE_NAME = re.compile(r"postgres|redis|database|(^|-)db($|-)", re.IGNORECASE)


def _selects_database(selector: Any) -> bool:
    if not isinstance(selector, Mapping):
        return False
    return any(str(k).startswith("cnpg.io/") or DATABASE_NAME.search(str(v)) for k, v in selector.items())


def _database_ports(node: Any) -> list[int]:
    found = {int(v) for _, v in leaves(node) if isinstance(v, int | float) and not isinstance(v, bool)}
    return sorted(found & set(DATABASE_PORTS))


def _exposed(spec: Mapping[str, Any]) -> bool:
    return spec.get("type") in OUTSIDE or bool(spec.get("externalIPs"))


def no_public_database(args: ResourceArgs, report: Report) -> None:
    """No database answers from outside the cluster: no LoadBalancer, NodePort or external IP before one."""
    kind = _kind(args.resource_type)
    spec = args.props.get("spec") or {}
    if kind == "Service" and isinstance(spec, Mapping) and _exposed(spec):
        ports = _database_ports(spec.get("ports") or [])
        if ports or _selects_database(spec.get("selector")):
            what = f"port(s) {', '.join(map(str, ports))}" if ports else "the database's pods"
            report(
                f"{args.name}: a {spec.get('type') or 'Service with externalIPs'} in front of {what}; "
                "use a ClusterIP Service (the app reaches the database inside the cluster)"
            )
    # CloudNativePG's own Services (a Cluster's spec.managed.services.additional[].serviceTemplate:
    # cloudnative-pg v1.30.0 api/v1/cluster_types.go:2556-2579; a Pooler's serviceTemplate): any
    # service spec inside a database resource that would answer from outside.
    if "cnpg.io" in args.resource_type:
        for where, mapping in _mappings(args.props, "spec"):
            if _exposed(mapping):
                report(f"{args.name}: {where} would expose the database outside the cluster; drop its type")
    for where, mapping in value_mappings(args):
        if _exposed(mapping) and (_database_ports(mapping) or DATABASE_NAME.search(where)):
            report(f"{args.name}: {where} exposes a database outside the cluster; use ClusterIP")


def _host_covered(host: str, tls_hosts: list[str]) -> bool:
    for name in tls_hosts:
        if name == host or (name.startswith("*.") and host.split(".", 1)[-1] == name[2:] and "." in host):
            return True
    return False


def _tls_problems(spec: Mapping[str, Any]) -> Iterator[str]:
    tls = [t for t in spec.get("tls") or [] if isinstance(t, Mapping)]
    if not tls:
        yield "has no TLS (spec.tls)"
        return
    named = [str(h) for t in tls for h in t.get("hosts") or []]
    for rule in spec.get("rules") or []:
        host = rule.get("host") if isinstance(rule, Mapping) else None
        if host and not _host_covered(str(host), named):
            yield f"serves '{host}' without TLS"


def ingress_tls(args: ResourceArgs, report: Report) -> None:
    """Everything served through an Ingress is encrypted: every Ingress has TLS for every host it serves."""
    spec = args.props.get("spec") or {}
    # A patch leaves the object's tls as it is unless it sets it.
    judged = _kind(args.resource_type) == "Ingress" and isinstance(spec, Mapping)
    if judged and (not _patch(args.resource_type) or "tls" in spec):
        for problem in _tls_problems(spec):
            report(f"{args.name}: {problem}; add a tls entry (cert-manager issues the certificate)")
    # A chart's own Ingress (`grafana.ingress`...): enabled with no tls.
    for where, mapping in value_mappings(args):
        ingress = mapping.get("ingress")
        if isinstance(ingress, Mapping) and ingress.get("enabled") is True and not ingress.get("tls"):
            report(f"{args.name}: {where}.ingress is enabled without tls; add its tls")


# An authentication method that admits whoever connects: pg_hba.conf's `trust` (PostgreSQL's
# documentation, "The pg_hba.conf File"). CloudNativePG adds a Cluster's
# spec.postgresql.pg_hba lines and a Pooler's spec.pgbouncer.pg_hba lines to the files it
# writes (cloudnative-pg v1.30.0 api/v1/cluster_types.go:1599, api/v1/pooler_types.go:283).
TRUST = re.compile(r"^\s*(local|host\w*)\s.*\btrust\b")


def _trusting(text: Any) -> bool:
    return isinstance(text, str) and any(TRUST.match(line.split("#", 1)[0]) for line in text.splitlines())


def _hba_places(args: ResourceArgs) -> Iterator[tuple[str, Any]]:
    """Every string under a key naming pg_hba: a database resource's, a ConfigMap's, a chart's."""
    if "cnpg.io" in args.resource_type or _kind(args.resource_type) == "ConfigMap":
        for keys, value in leaves(args.props):
            if any("hba" in key.lower() for key in keys):
                yield ".".join(keys), value
    for where, keys, value in value_leaves(args):
        if any("hba" in key.lower() for key in keys):
            yield where, value


def no_trust_auth(args: ResourceArgs, report: Report) -> None:
    """Every database connection authenticates: no pg_hba line trusts a client without a password."""
    for where, text in _hba_places(args):
        if _trusting(text):
            report(f"{args.name}: {where} trusts clients without a password; use scram-sha-256")
