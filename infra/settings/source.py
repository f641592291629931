"""Where `samokoder:` config values come from: the Pulumi runtime or a stack file."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from infra.conventions import REDACTED
from infra.settings.loader import NAMESPACE, STACK_FILE_KEYS, ConfigError, Problem, read_yaml_file
from infra.settings.secrets import YANDEX_API_ENDPOINTS, is_yandex_api_endpoint, key_content_problem

__all__ = ["REDACTED", "namespace_config", "read_stack_file", "stack_file_values"]


def namespace_config(namespace: str = NAMESPACE) -> dict[str, Any]:
    """Every `<namespace>:` key the Pulumi runtime was given, decoded.

    `pulumi.Config` reads one key at a time and cannot list them; listing
    them is what lets an unknown key fail instead of being ignored. The CLI's
    language host hands a program its whole config as JSON in `PULUMI_CONFIG`
    (pulumi 1b59498, sdk/python/cmd/pulumi-language-python/main.go:88 and :1071),
    which the public `pulumi.runtime.get_config_env()` lists. A program given
    its config in-process only (`pulumi.runtime.set_all_config`, as the
    Automation API's inline programs are) lists nothing there, so the keys a
    stack file may hold are also read by name.
    """
    prefix = f"{namespace}:"
    keys = {key for key in pulumi.runtime.get_config_env() if key.startswith(prefix)}
    keys |= {prefix + name for name in STACK_FILE_KEYS}
    # The runtime's own lookup, which pulumi.Config.get makes, without the warning
    # pulumi.Config is to give again for a secret key read in plain text (pulumi#7127).
    found = {key: pulumi.runtime.get_config(key) for key in sorted(keys)}
    raw = {key: value for key, value in found.items() if value is not None}
    _refuse_credentials_in_the_clear()
    return {key.removeprefix(prefix): _decode(value) for key, value in raw.items() if key != prefix}


def _refuse_credentials_in_the_clear() -> None:
    """What `pulumi up` was given in plain text where only encrypted values belong, in any namespace.

    The CLI hands the program decrypted values and the list of keys that were
    encrypted; a credential's key missing from that list was written in plain text.
    """
    stack = pulumi.get_stack()
    source = f"Pulumi.{stack}.yaml"
    checked = () if os.environ.get(PLAINTEXT_SECRETS_IN_TESTS) == "1" else sorted(SECRET_CONFIG_KEYS)
    problems = [
        Problem(source, key.removeprefix(f"{NAMESPACE}:"), PLAINTEXT_REASON)
        for key in checked
        if pulumi.runtime.get_config(key) and not pulumi.runtime.is_config_secret(key)
    ]
    problems += provider_config_problems(source, pulumi.runtime.get_config, pulumi.runtime.is_config_secret)
    if problems:
        raise ConfigError(stack, problems)


# The Yandex provider's config keys (pulumi_yandex 0.13.0, config/vars.py): where its token goes,
# its key file ("either the path to or the contents of a Service Account key file"), and the
# switches that send the token without TLS or without checking whose certificate answers.
PROVIDER_ENDPOINT = "yandex:endpoint"
PROVIDER_KEY_FILE = "yandex:serviceAccountKeyFile"
PROVIDER_TLS_SWITCHES = ("yandex:plaintext", "yandex:insecure")


def provider_config_problems(
    source: str, value_of: Callable[[str], Any], is_secret: Callable[[str], bool]
) -> list[Problem]:
    """The Yandex provider's settings in a stack file that would hand its credential to someone else."""
    problems = []
    endpoint = value_of(PROVIDER_ENDPOINT)
    if endpoint is not None and not (isinstance(endpoint, str) and is_yandex_api_endpoint(endpoint)):
        problems.append(
            Problem(
                source,
                PROVIDER_ENDPOINT,
                "the provider's token goes to this host, so it must be Yandex Cloud's API, one of "
                f"{', '.join(YANDEX_API_ENDPOINTS)} (or left out)",
            )
        )
    key_file = value_of(PROVIDER_KEY_FILE)
    if isinstance(key_file, str) and not is_secret(PROVIDER_KEY_FILE) and key_content_problem(key_file):
        problems.append(
            Problem(
                source,
                PROVIDER_KEY_FILE,
                f"{key_content_problem(key_file)} in plain text (not shown): name the key's file, or set "
                f"it encrypted with `pulumi config set --secret {PROVIDER_KEY_FILE}`",
            )
        )
    problems += [
        Problem(source, key, "sends the provider's token without TLS or to an unchecked certificate")
        for key in PROVIDER_TLS_SWITCHES
        if str(value_of(key)).lower() == "true"
    ]
    return problems


def _decode(value: Any) -> Any:
    # Structured values arrive JSON-encoded, plain ones as bare strings.
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


@dataclass(frozen=True)
class StackFile:
    """The config of a Pulumi.<stack>.yaml, as the CLI would hand it to the program."""

    config: dict[str, str]
    secret_keys: list[str] = field(default_factory=list)


def read_stack_file(path: Path) -> StackFile:
    """Read a stack file into the flat `namespace:key -> string` map the runtime uses."""
    source, stack = path.name, path.stem.removeprefix("Pulumi.")
    document = read_yaml_file(path, source, stack, "stack file") or {}
    entries = (document.get("config") or {}) if isinstance(document, dict) else None
    if not isinstance(entries, dict):
        raise ConfigError(stack, [Problem(source, "config", "must be a mapping of config keys")])
    problems = (
        []
        if os.environ.get(PLAINTEXT_SECRETS_IN_TESTS) == "1"
        else [
            Problem(source, f"{key}.{name}" if name else str(key), PLAINTEXT_REASON)
            for key, value in entries.items()
            if str(key) in SECRET_CONFIG_KEYS
            for name in _plaintext_leaves(value)
        ]
    )
    redacted = {str(key): _redact(value) for key, value in entries.items()}
    secret_keys = sorted(key for key, (_, secret) in redacted.items() if secret)
    plain = {key: value for key, (value, secret) in redacted.items() if not secret}
    problems += provider_config_problems(source, plain.get, secret_keys.__contains__)
    if problems:
        raise ConfigError(stack, problems)
    return StackFile(
        config={
            key: value if isinstance(value, str) else json.dumps(value, sort_keys=True)
            for key, (value, _) in redacted.items()
        },
        secret_keys=secret_keys,
    )


# Config keys whose every value is a credential: in the stack file only `secure:` (encrypted). The
# program's provided secrets, and the Yandex provider's token and static keys' secret halves
# (pulumi_yandex 0.13.0, config/vars.py: token, storageSecretKey, ymqSecretKey).
SECRET_CONFIG_KEYS = frozenset(
    {f"{NAMESPACE}:secrets", "yandex:token", "yandex:storageSecretKey", "yandex:ymqSecretKey"}
)
# Set by the tests that put made-up secrets in a stack file to see none leaks; never elsewhere.
PLAINTEXT_SECRETS_IN_TESTS = "SAMOKODER_TEST_PLAINTEXT_SECRETS"  # pragma: allowlist secret
PLAINTEXT_REASON = (
    "a secret in plain text (not shown): remove it and set it encrypted with "
    "`pulumi config set --secret --path KEY VALUE`"
)


def _plaintext_leaves(value: Any, path: str = "") -> list[str]:
    """The dotted paths under `value` that hold a value not encrypted (`{secure: ...}` is)."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return []
        return [
            leaf
            for key, child in value.items()
            for leaf in _plaintext_leaves(child, f"{path}.{key}" if path else str(key))
        ]
    if isinstance(value, list):
        return [leaf for i, child in enumerate(value) for leaf in _plaintext_leaves(child, f"{path}[{i}]")]
    return [] if value is None else [path]


def _redact(value: Any) -> tuple[Any, bool]:
    """Replace `{secure: ...}` leaves by a placeholder; say whether any were found."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return REDACTED, True
        pairs = {k: _redact(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(s for _, s in pairs.values())
    if isinstance(value, list):
        items = [_redact(v) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


def stack_file_values(path: Path, namespace: str = NAMESPACE) -> dict[str, Any]:
    """The decoded `<namespace>:` values of a stack file, as the program would see them."""
    config = read_stack_file(path).config
    prefix = f"{namespace}:"
    return {
        key.removeprefix(prefix): _decode(value) for key, value in config.items() if key.startswith(prefix)
    }
