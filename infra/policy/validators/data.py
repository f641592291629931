"""What holds data: buckets locked down, Postgres backed up, stateful resources protected in production."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from infra.policy.validators.common import (
    BUCKET,
    CNPG_CLUSTER,
    DNS_ZONE,
    K8S_CLUSTER,
    KMS_KEY,
    OBJECT_STORE,
    SCHEDULED_BACKUP,
    SITE_ADDRESS,
    STATEFUL_SET,
    Report,
    ResourceArgs,
    StackArgs,
    _is_list,
    dig,
)


def buckets_locked_down(args: ResourceArgs, report: Report) -> None:
    """Stored data stays private and recoverable: buckets are private, versioned, KMS-encrypted, expiring."""
    if args.resource_type != BUCKET:
        return
    props = args.props
    if props.get("acl") not in (None, "private") or any(
        grant.get("type") == "Group" or grant.get("uri") for grant in props.get("grants") or []
    ):
        report(
            f"{args.name}: the bucket is readable beyond its own accounts; "
            "keep acl private, grant accounts only"
        )
    if not dig(props, "versioning", "enabled"):
        report(f"{args.name}: versioning is off; set versioning.enabled so deleted objects can be recovered")
    rule = dig(props, "serverSideEncryptionConfiguration", "rule", "applyServerSideEncryptionByDefault") or {}
    if rule.get("sseAlgorithm") != "aws:kms" or not rule.get("kmsMasterKeyId"):
        report(f"{args.name}: objects are not encrypted with a KMS key; set server-side encryption aws:kms")
    if not props.get("lifecycleRules"):
        report(f"{args.name}: no lifecycle rules; expire noncurrent versions and abort stale uploads")
    if _public_bucket_policy(props.get("policy")):
        report(
            f"{args.name}: the bucket policy allows a '*' principal (anyone); "
            "name the accounts that need access instead"
        )
    if props.get("website") or props.get("websiteEndpoint") or props.get("websiteDomain"):
        report(f"{args.name}: website hosting is on, which serves objects to anyone; remove website")
    flags = props.get("anonymousAccessFlags") or {}
    if any(flags.get(flag) for flag in ("read", "list", "configRead")):
        report(f"{args.name}: anonymous access is on; set anonymousAccessFlags read and list to false")


def _public_bucket_policy(policy: Any) -> bool:
    """A bucket policy document (JSON text or parsed) with an Allow statement for any principal."""
    if isinstance(policy, str):
        if not policy.strip():
            return False
        try:
            policy = json.loads(policy)
        except ValueError:
            return "*" in policy  # unreadable: judged by its text
    if not isinstance(policy, Mapping):
        return False
    statements = policy.get("Statement") or []
    for statement in statements if _is_list(statements) else [statements]:
        if not isinstance(statement, Mapping) or statement.get("Effect", "Allow") != "Allow":
            continue
        principal = statement.get("Principal")
        if principal == "*" or (
            isinstance(principal, Mapping)
            and any(value == "*" or (_is_list(value) and "*" in value) for value in principal.values())
        ):
            return True
    return False


def postgres_backed_up(args: StackArgs, report: Report) -> None:
    """Every database can be restored: it archives WAL, has scheduled backups, and keeps them long enough.

    Long enough: the stack's floor (``minimumRetentionDays``).
    """
    floor = int(args.get_config().get("minimumRetentionDays", 7))
    clusters = [r for r in args.resources if r.resource_type == CNPG_CLUSTER]
    scheduled = {
        dig(r.props, "spec", "cluster", "name") for r in args.resources if r.resource_type == SCHEDULED_BACKUP
    }
    stores = {dig(r.props, "metadata", "name"): r for r in args.resources if r.resource_type == OBJECT_STORE}
    for cluster in clusters:
        spec = cluster.props.get("spec") or {}
        if "recovery" in (spec.get("bootstrap") or {}):
            continue  # a restore's scratch copy is not the database of record
        name = dig(cluster.props, "metadata", "name")
        archivers = [p for p in spec.get("plugins") or [] if p.get("isWALArchiver")]
        if not archivers:
            report(
                f"{cluster.name}: no WAL archiver; add the Barman Cloud plugin with isWALArchiver: true",
                cluster.urn,
            )
            continue
        if name not in scheduled:
            report(f"{cluster.name}: no ScheduledBackup for cluster '{name}'; add a daily one", cluster.urn)
        store = stores.get(dig(archivers[0], "parameters", "barmanObjectName"))
        if store is None:
            report(f"{cluster.name}: its WAL archiver names no ObjectStore of this stack", cluster.urn)
            continue
        retention = str((store.props.get("spec") or {}).get("retentionPolicy", ""))
        days = _days(retention)
        if days is None or days < floor:
            report(
                f"{store.name}: retention '{retention or 'none'}' is under this stack's floor of "
                f"{floor} days; set retentionPolicy to at least '{floor}d'",
                store.urn,
            )


def _days(policy: str) -> int | None:
    match = re.fullmatch(r"([1-9][0-9]*)([dwm])", policy)
    if not match:
        return None
    return int(match[1]) * {"d": 1, "w": 7, "m": 30}[match[2]]


def _lockbox(resource: Any) -> bool:
    kind = resource.resource_type
    return kind.startswith("pulumi-python:dynamic") and (
        "lockbox" in kind.lower() or ("payload" in resource.props and "kms_key_id" in resource.props)
    )


def _stateful(resource: Any) -> bool:
    kind = resource.resource_type
    if kind == CNPG_CLUSTER:
        return "recovery" not in (dig(resource.props, "spec", "bootstrap") or {})
    return kind in (BUCKET, KMS_KEY, K8S_CLUSTER, STATEFUL_SET, SITE_ADDRESS, DNS_ZONE) or _lockbox(resource)


def prod_stateful_protected(args: StackArgs, report: Report) -> None:
    """In production, nothing that holds state is deleted by an update: it is protected.

    Buckets, KMS keys, the Kubernetes cluster, database clusters, StatefulSets
    (Redis in the cluster), Lockbox secrets, and the site's reserved address and
    public DNS zone.
    """
    if not args.get_config().get("production"):
        return
    for resource in args.resources:
        if _stateful(resource) and not resource.opts.protect:
            report(
                f"{resource.name}: a production {resource.resource_type.rsplit(':', 1)[-1]} is not "
                "protected; set protect=True (protect_stateful)",
                resource.urn,
            )
