"""Secrets: Lockbox encrypted and rotated, no secret literals in code or configuration."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from infra.policy.validators.common import DYNAMIC, REDACTED, Report, ResourceArgs, StackArgs, _kind
from infra.policy.validators.looks import decoded, secret_in
from infra.policy.validators.pods import _containers, _pod
from infra.policy.validators.values import value_leaves

# scheme://user:password@host: a connection URL that carries its password.  # pragma: allowlist secret
URL_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^/:@\s]+:[^@/\s]+@", re.IGNORECASE | re.MULTILINE)


def lockbox_encrypted(args: ResourceArgs, report: Report) -> None:
    """A Lockbox secret is readable only through a KMS key of ours: it is encrypted with one."""
    if args.resource_type == DYNAMIC and "payload" in args.props and not args.props.get("kms_key_id"):
        report(f"{args.name}: the Lockbox secret has no KMS key; set kms_key_id to the stack's Lockbox key")


# A command-line option with its value (`--db-password=...`), not a script passed whole.
OPTION = re.compile(r"--?([A-Za-z][\w.-]*)=([^\n]+)")


def _places(args: ResourceArgs) -> Iterator[tuple[str, str, Any]]:
    """(where, the key it is kept under, value) of every literal a secret could hide in."""
    kind = _kind(args.resource_type)
    if kind == "ConfigMap":
        for key, value in (args.props.get("data") or {}).items():
            yield f"data.{key}", str(key), value
        for key, value in (args.props.get("binaryData") or {}).items():
            yield f"binaryData.{key}", str(key), decoded(value)
    for where, keys, value in value_leaves(args):
        yield where, keys[-1] if keys else "", value
    for container in _containers(_pod(args)):
        label = f"of '{container.get('name')}'"
        for env in container.get("env") or []:
            yield f"env {env.get('name')} {label}", str(env.get("name")), env.get("value")
        for arg in [*(container.get("command") or []), *(container.get("args") or [])]:
            if match := OPTION.fullmatch(str(arg)):
                yield f"argument --{match[1]} {label}", match[1], match[2]


def no_secret_literals(args: ResourceArgs, report: Report) -> None:
    """No secret is written where anyone who reads the cluster's configuration can read it.

    Judged by what a value looks like, wherever it sits: a ConfigMap's data and
    binaryData (and the env or config files they hold), containers' env and
    arguments, a chart's values and values files.
    """
    for where, key, value in _places(args):
        if not isinstance(value, str) or value == REDACTED:
            continue
        if URL_PASSWORD.search(value):
            report(
                f"{args.name}: {where} is a URL with an inline password; give the password through a "
                "Secret (SAMOKODER_DATABASE_PASSWORD from External Secrets) and keep the URL without it"
            )
        elif (why := secret_in(key, value, REDACTED)) is not None:
            report(
                f"{args.name}: {where} holds {why}; move it to Lockbox and read it from a Secret "
                "(External Secrets)"
            )


def secrets_not_in_code(args: ResourceArgs, report: Report) -> None:
    """No secret's value is written in the program: a Secret's data comes from Lockbox or secret Outputs.

    What tells them apart: a value from a secret Output reaches the validators
    redacted (synth writes ``[secret]``; the pack, ``policy/__main__.py``,
    redacts what the engine marks secret the same way), a literal reaches them
    as itself.
    """
    if _kind(args.resource_type) != "Secret":
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
    """A leaked secret stops working within the stack's rotation period: Lockbox secrets are rotated.

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
