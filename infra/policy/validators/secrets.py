"""Secrets: Lockbox encrypted and rotated, no secret literals in code or configuration."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from infra.policy.validators.common import (
    CONFIG_MAP,
    DYNAMIC,
    HELM_RELEASE,
    REDACTED,
    SECRET,
    Report,
    ResourceArgs,
    StackArgs,
    _walk,
)
from infra.policy.validators.pods import _containers, _pod_specs

SECRETISH = re.compile(r"(passw(or)?d|secret|token|api[_-]?key|private[_-]?key|credential)", re.IGNORECASE)


# Secret-looking values: PEM keys, Yandex IAM and OAuth tokens, static keys, long opaque strings.
SECRET_VALUE = re.compile(
    r"(-----BEGIN [A-Z ]*PRIVATE KEY-----|^t1\.[A-Za-z0-9_-]{20,}|^y0_[A-Za-z0-9_-]{20,}"
    r"|^YC[A-Za-z0-9_-]{30,}|^sk-[A-Za-z0-9_-]{20,})"
)


# scheme://user:password@host: a connection URL that carries its password.  # pragma: allowlist secret
URL_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^/:@\s]+:[^@/\s]+@", re.IGNORECASE)


# A Kubernetes object name or key: what a secret-named field holds when it refers to a Secret.
REFERENCE = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")


def lockbox_encrypted(args: ResourceArgs, report: Report) -> None:
    """Lockbox secrets are encrypted with a KMS key of ours."""
    if args.resource_type == DYNAMIC and "payload" in args.props and not args.props.get("kms_key_id"):
        report(f"{args.name}: the Lockbox secret has no KMS key; set kms_key_id to the stack's Lockbox key")


def _secret_looking(key: str, value: Any) -> bool:
    if not isinstance(value, str) or not value or value == REDACTED:
        return False
    if SECRET_VALUE.search(value):
        return True
    # A secret-named key holding a literal of some length: not a Secret's or key's name, a path or a template.
    return (
        bool(SECRETISH.search(key))
        and len(value) >= 12
        and not REFERENCE.fullmatch(value)
        and not value.startswith(("/", "{{", "$"))
    )


def no_secret_literals(args: ResourceArgs, report: Report) -> None:
    """No secret-looking literal in a ConfigMap, an env var or Helm values."""
    places: list[tuple[str, Any]] = []
    if args.resource_type == CONFIG_MAP:
        places = [(f"data.{k}", v) for k, v in (args.props.get("data") or {}).items()]
    elif args.resource_type == HELM_RELEASE:
        places = list(_walk(args.props.get("values") or {}, "values"))
    for pod in _pod_specs(args):
        for container in _containers(pod):
            for env in container.get("env") or []:
                places.append((f"env {env.get('name')} of '{container.get('name')}'", env.get("value")))
    for where, value in places:
        if isinstance(value, str) and value != REDACTED and URL_PASSWORD.search(value):
            report(
                f"{args.name}: {where} is a URL with an inline password; give the password through a "
                "Secret (SAMOKODER_DATABASE_PASSWORD from External Secrets) and keep the URL without it"
            )
            continue
        key = where.rsplit(".", 1)[-1]
        if _secret_looking(key if not where.startswith("env ") else where.split()[1], value):
            report(
                f"{args.name}: {where} holds a secret-looking literal; move it to Lockbox and read it "
                "from a Secret (External Secrets)"
            )


def secrets_not_in_code(args: ResourceArgs, report: Report) -> None:
    """A Kubernetes Secret's data comes from secret values (Lockbox, Outputs), never from literals in code.

    What tells them apart: a value from a secret Output reaches the validators
    redacted (synth writes ``[secret]``; the pack, ``policy/__main__.py``,
    redacts what the engine marks secret the same way), a literal reaches them
    as itself.
    """
    if args.resource_type != SECRET:
        return
    for field_name in ("data", "stringData"):
        data = args.props.get(field_name)
        if data == REDACTED or not isinstance(data, Mapping):
            continue
        for key, value in data.items():
            if isinstance(value, str) and value not in (REDACTED, ""):
                report(
                    f"{args.name}: {field_name}.{key} is a literal in code; put the value in Lockbox "
                    "(delivered by External Secrets) or pass it as a secret Output"
                )


def secrets_rotated(args: StackArgs, report: Report) -> None:
    """Lockbox secrets are rotated within the stack's period.

    A stack policy, because the age is what the provider reports (``created_at``,
    an output) unless a rotation was stamped (``rotated_at``, an input): a
    resource policy sees inputs only, where a secret never rotated has no date.
    """
    config = args.get_config()
    period = int(config.get("rotationDays", 90))
    now = datetime.fromisoformat(str(config["now"])) if config.get("now") else datetime.now(UTC)
    for resource in args.resources:
        if resource.resource_type != DYNAMIC or "payload" not in resource.props:
            continue
        stamp = resource.props.get("rotated_at") or resource.props.get("created_at")
        if not isinstance(stamp, str) or not stamp:
            continue
        age = (now - datetime.fromisoformat(stamp.replace("Z", "+00:00"))).days
        if age > period:
            report(
                f"{resource.name}: last rotated {age} days ago, over the {period}-day period; "
                "run `samokoder-infra rotate-secrets` and `pulumi up`",
                resource.urn,
            )
