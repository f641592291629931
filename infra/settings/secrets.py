"""Provided secrets, their rotation, and how the Lockbox provider signs in.

A secret only operators have is declared once, in ``PROVIDED_SECRETS``: its
settings key, the variable it is delivered as, its strength rule and when a
stack needs it. The settings model's fields, the strength check, the list a
stack requires (``StackSettings.required_secrets``) and the Lockbox catalog
(``infra/render/secrets/catalog.py``) are all derived from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal, get_args

from pydantic import Field, SecretStr, ValidationInfo, create_model, field_validator, model_validator

from infra.conventions import REDACTED
from infra.settings.base import StrictModel, is_production, production_rules
from infra.settings.monitoring import Receiver, Receivers
from infra.settings.strength import Rule

SecretGroup = Literal["app", "monitoring"]
SECRET_GROUPS: tuple[SecretGroup, ...] = get_args(SecretGroup)


@dataclass(frozen=True)
class ProvidedSecret:
    """One secret operators provide (``pulumi config set --secret --path samokoder:secrets.<key>``)."""

    # The key under samokoder:secrets, and the field of ProvidedSecrets.
    key: str
    group: SecretGroup
    rule: Rule
    # Needed only while this alert receiver (alerting.receivers) is configured; None: every stack needs it.
    receiver: Receiver | None = None

    @property
    def variable(self) -> str:
        """The Lockbox entry and the key of the Kubernetes Secret it reaches: for the app group the
        environment variable the app reads; for monitoring the entry a receiver's file maps."""
        return self.key.upper()

    def required(self, receivers: Receivers) -> bool:
        return self.receiver is None or getattr(receivers, self.receiver) is not None

    @property
    def description(self) -> str:
        needed = (
            "every stack" if self.receiver is None else f"a stack with alerting.receivers.{self.receiver}"
        )
        return (
            f"{self.rule.what}, at least {self.rule.min_length} characters; the entry {self.variable} "
            f"of the stack's {self.group} secrets; needed by {needed}"
        )


OPENROUTER_API_KEY: Final = ProvidedSecret(
    "openrouter_api_key", "app", Rule(32, "an OpenRouter API key (sk-or-...)", r"sk-or-[A-Za-z0-9_-]+")
)
WATCHDOG_URL: Final = ProvidedSecret(
    "watchdog_url", "monitoring", Rule(24, "a dead man's switch URL (https://...)", r"https://[^\s]+")
)
TELEGRAM_BOT_TOKEN: Final = ProvidedSecret(
    "telegram_bot_token",
    "monitoring",
    Rule(40, "a Telegram bot token (<bot id>:<35 characters>)", r"[0-9]{6,}:[A-Za-z0-9_-]{35}"),
    "telegram",
)
SMTP_PASSWORD: Final = ProvidedSecret("smtp_password", "monitoring", Rule(12, "an SMTP password"), "email")
PAGERDUTY_ROUTING_KEY: Final = ProvidedSecret(
    "pagerduty_routing_key",
    "monitoring",
    Rule(32, "a PagerDuty Events v2 routing key (32 characters)", r"[A-Za-z0-9]{32}"),
    "pagerduty",
)
# In this order a stack lists what it is missing and the catalog lays out its entries.
PROVIDED_SECRETS: Final = (
    OPENROUTER_API_KEY,
    WATCHDOG_URL,
    TELEGRAM_BOT_TOKEN,
    SMTP_PASSWORD,
    PAGERDUTY_ROUTING_KEY,
)
_BY_KEY: Final = {secret.key: secret for secret in PROVIDED_SECRETS}


# Where an IAM token may be sent: Yandex Cloud's API discovery endpoint, by name. A wildcard would
# not do: tenants create names under yandexcloud.net (a bucket's website, an API gateway, a
# serverless container), and whoever answers the SDK's endpoint discovery chooses where the token
# goes next. The setting is the SDK's discovery endpoint, not a service's: the SDK asks
# ApiEndpointService.List there for every service's address (yandexcloud 0.413.0 _channels.py,
# _get_endpoints) and builds a key's token audience from it (`https://iam.{endpoint}`,
# _auth_fabric.py:94), so a service host (lockbox.api.cloud.yandex.net) would pass a check and fail the run.
YANDEX_API_ENDPOINTS = ("api.cloud.yandex.net:443",)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def is_yandex_api_endpoint(endpoint: str) -> bool:
    """HOST:PORT is one of Yandex Cloud's API endpoints (case and a trailing dot aside)."""
    host, _, port = endpoint.strip().lower().rpartition(":")
    return f"{host.rstrip('.')}:{port}" in YANDEX_API_ENDPOINTS


# What a key file's content looks like where its path belongs: the authorized key's JSON
# (`yc iam key create` writes {"id", "service_account_id", "private_key", ...}) or a PEM block.
_KEY_CONTENT_MARKERS = ("{", "-----BEGIN", "private_key", "PRIVATE KEY")
# Linux's PATH_MAX: no path is longer.
MAX_PATH_CHARS = 4096


def key_content_problem(value: str) -> str | None:
    """Why `value` is not a file's path but looks like a credential's content (None: a path)."""
    if any(marker in value for marker in _KEY_CONTENT_MARKERS) or "\n" in value or "\r" in value:
        return "looks like a key's content (JSON or PEM)"
    if len(value) > MAX_PATH_CHARS:
        return f"is {len(value)} characters long, longer than any path ({MAX_PATH_CHARS})"
    return None


# The audit: rotate every 90 days at the latest.
MAX_ROTATION_DAYS = 90


class SecretsProfile(StrictModel):
    """How often the generated secrets are renewed."""

    rotation_days: int = Field(
        ge=1, description=f"days after which a secret group is due for rotation, at most {MAX_ROTATION_DAYS}"
    )

    @field_validator("rotation_days")
    @classmethod
    def _audit_period(cls, value: int) -> int:
        if value > MAX_ROTATION_DAYS:
            raise ValueError(
                f"must be at most {MAX_ROTATION_DAYS} days, the audit's rotation period (got {value})"
            )
        return value


class _ProvidedSecretsModel(StrictModel):
    """Secrets only operators have (``pulumi config set --secret``); checked, never printed.

    One optional field per declared secret (``PROVIDED_SECRETS``), read with ``value(key)``.
    """

    @field_validator("*", mode="before")
    @classmethod
    def _strong(cls, value: object, info: ValidationInfo) -> object:
        if value is None:
            return None
        name = info.field_name
        if not isinstance(value, str):
            raise ValueError(
                f"must be a string: pulumi config set --secret --path samokoder:secrets.{name} VALUE"
            )
        if value == REDACTED:
            # Encrypted in the stack file: synth cannot read it; `pulumi up` checks it decrypted.
            return value
        assert name is not None
        problem = _BY_KEY[name].rule.problem(value)
        if problem:
            raise ValueError(
                f"the value {problem}; set a real one with "
                f"`pulumi config set --secret --path samokoder:secrets.{name}`"
            )
        return value

    def value(self, name: str) -> str | None:
        secret = getattr(self, name)
        return None if secret is None else str(secret.get_secret_value())


if TYPE_CHECKING:
    # The type checker sees the fields' common base; the model has one field per declaration.
    ProvidedSecrets = _ProvidedSecretsModel
else:
    ProvidedSecrets = create_model(
        "ProvidedSecrets",
        __base__=_ProvidedSecretsModel,
        __module__=__name__,
        __doc__=_ProvidedSecretsModel.__doc__,
        **{
            secret.key: (SecretStr | None, Field(default=None, description=secret.description))
            for secret in PROVIDED_SECRETS
        },
    )


class LockboxSettings(StrictModel):
    """How the Lockbox provider authenticates (per stack: an operator, CI or a VM).

    ``environment`` (the default) is the token source the kubeconfig's plugin
    and the registry checks use: YC_SERVICE_ACCOUNT_KEY_FILE, else
    YC_IAM_TOKEN, else the VM's metadata service.
    """

    auth: Literal["service_account_key_file", "iam_token", "metadata", "environment"] = Field(
        default="environment", description="where the provider's IAM token comes from"
    )
    key_file: str | None = Field(
        default=None,
        min_length=1,
        description="the path of the authorized key's file (never its content), with (and only with) "
        "service_account_key_file",
    )
    test_endpoint: bool = Field(
        default=False, description="allow a loopback endpoint (the tests' fake APIs); never in production"
    )
    endpoint: str = Field(
        default="api.cloud.yandex.net:443",
        description="the API's HOST:PORT; the IAM token goes there, so it is one of Yandex Cloud's "
        f"({', '.join(YANDEX_API_ENDPOINTS)}), or outside production with test_endpoint a loopback address",
    )

    @field_validator("key_file")
    @classmethod
    def _a_path_not_a_key(cls, value: str | None) -> str | None:
        # The settings are not secret: they reach resources.json (which CI uploads) and error messages.
        problem = None if value is None else key_content_problem(value)
        if problem:
            raise ValueError(
                f"must be the path of the authorized key's file, and the value {problem} (not shown): the "
                "settings are not secret and travel to resources.json and error messages; remove it, "
                "revoke the key, and name the file instead"
            )
        return value

    _in_production = production_rules(
        {
            "test_endpoint": (
                bool,
                "a production stack talks to Yandex Cloud's API only: a loopback endpoint is the tests' "
                "fake API, and on a shared machine whatever listens there would receive the IAM token",
            )
        }
    )

    @model_validator(mode="after")
    def _key_file_with_its_method(self) -> LockboxSettings:
        if (self.auth == "service_account_key_file") != (self.key_file is not None):
            raise ValueError("key_file is required with auth 'service_account_key_file' and only with it")
        return self

    @field_validator("endpoint")
    @classmethod
    def _yandex_cloud_only(cls, endpoint: str, info: ValidationInfo) -> str:
        host, _, port = endpoint.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536 or "/" in endpoint:
            raise ValueError("must be HOST:PORT, e.g. api.cloud.yandex.net:443 (no scheme, no path)")
        # test_endpoint is declared first, so it is validated (and refused in production) by now.
        host = host.lower().strip("[]")
        if info.data.get("test_endpoint"):
            if host not in LOOPBACK_HOSTS:
                raise ValueError("test_endpoint allows only a loopback endpoint (127.0.0.1, localhost, ::1)")
            return endpoint
        if not is_yandex_api_endpoint(endpoint):
            loopback = (
                "a loopback address is never one in production"
                if is_production(info)
                else "a test's loopback API needs test_endpoint: true"
            )
            raise ValueError(
                "the IAM token goes to this host, so it must be Yandex Cloud's API, one of "
                f"{', '.join(YANDEX_API_ENDPOINTS)}, not any *.yandexcloud.net name (tenants create "
                f"those); {loopback}"
            )
        return endpoint
