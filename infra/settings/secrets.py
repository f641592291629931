"""Provided secrets, their rotation, and how the Lockbox provider signs in.

A secret only operators have is declared once, in ``PROVIDED_SECRETS``: its
settings key, the variable it is delivered as, its strength rule and when a
stack needs it. The settings model's fields, the strength check, the list a
stack requires (``StackSettings.required_secrets``) and the Lockbox catalog
(``infra/render/secrets/catalog.py``) are all derived from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from pydantic import (
    Field,
    SecretStr,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from infra.conventions import REDACTED
from infra.settings.base import StrictModel
from infra.settings.monitoring import Receivers
from infra.settings.strength import Rule

SecretGroup = Literal["app", "monitoring"]


SECRET_GROUPS: tuple[SecretGroup, ...] = ("app", "monitoring")
# An alert receiver of alerting.receivers (infra/settings/monitoring.py).
Receiver = Literal["telegram", "email", "pagerduty"]


@dataclass(frozen=True)
class ProvidedSecret:
    """One secret operators provide (``pulumi config set --secret --path samokoder:secrets.<key>``)."""

    # The key under samokoder:secrets, and the field of ProvidedSecrets.
    key: str
    # The Lockbox entry and the key of the Kubernetes Secret it reaches: for the app group
    # the environment variable the app reads; for monitoring the entry a receiver's file maps.
    variable: str
    group: SecretGroup
    rule: Rule
    # Needed only while this alert receiver is configured; None: every stack needs it.
    receiver: Receiver | None = None

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
    "openrouter_api_key",
    "OPENROUTER_API_KEY",
    "app",
    Rule(32, "an OpenRouter API key (sk-or-...)", r"sk-or-[A-Za-z0-9_-]+"),
)
WATCHDOG_URL: Final = ProvidedSecret(
    "watchdog_url",
    "WATCHDOG_URL",
    "monitoring",
    Rule(24, "a dead man's switch URL (https://...)", r"https://[^\s]+"),
)
TELEGRAM_BOT_TOKEN: Final = ProvidedSecret(
    "telegram_bot_token",
    "TELEGRAM_BOT_TOKEN",
    "monitoring",
    Rule(40, "a Telegram bot token (<bot id>:<35 characters>)", r"[0-9]{6,}:[A-Za-z0-9_-]{35}"),
    receiver="telegram",
)
SMTP_PASSWORD: Final = ProvidedSecret(
    "smtp_password",
    "SMTP_PASSWORD",
    "monitoring",
    Rule(12, "an SMTP password"),
    receiver="email",
)
PAGERDUTY_ROUTING_KEY: Final = ProvidedSecret(
    "pagerduty_routing_key",
    "PAGERDUTY_ROUTING_KEY",
    "monitoring",
    Rule(32, "a PagerDuty Events v2 routing key (32 characters)", r"[A-Za-z0-9]{32}"),
    receiver="pagerduty",
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


# Yandex Cloud's API hosts: api.cloud.yandex.net and its subdomains (what ApiEndpointService
# lists, e.g. lockbox.api.cloud.yandex.net, payload.lockbox.api.cloud.yandex.net), and
# *.yandexcloud.net (storage.yandexcloud.net, the Managed services' hosts).
YANDEX_API_DOMAINS = ("api.cloud.yandex.net", "*.api.cloud.yandex.net", "*.yandexcloud.net")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def is_yandex_api_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host == "api.cloud.yandex.net" or any(
        host.endswith(domain.removeprefix("*")) and len(host) > len(domain) - 1
        for domain in YANDEX_API_DOMAINS
        if domain.startswith("*")
    )


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
        default=None, description="the authorized key's file, with (and only with) service_account_key_file"
    )
    endpoint: str = Field(
        default="api.cloud.yandex.net:443",
        description="the API's HOST:PORT; the IAM token goes there, so it is Yandex Cloud's "
        f"({', '.join(YANDEX_API_DOMAINS)}), or with test_endpoint a loopback address",
    )
    test_endpoint: bool = Field(default=False, description="allow a loopback endpoint (the tests' fake APIs)")

    @model_validator(mode="after")
    def _key_file_with_its_method(self) -> LockboxSettings:
        if (self.auth == "service_account_key_file") != (self.key_file is not None):
            raise ValueError("key_file is required with auth 'service_account_key_file' and only with it")
        return self

    @field_validator("endpoint")
    @classmethod
    def _host_and_port(cls, endpoint: str) -> str:
        host, _, port = endpoint.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536 or "/" in endpoint:
            raise ValueError("must be HOST:PORT, e.g. api.cloud.yandex.net:443 (no scheme, no path)")
        return endpoint

    @model_validator(mode="after")
    def _yandex_cloud_only(self) -> LockboxSettings:
        host = self.endpoint.rpartition(":")[0].lower().strip("[]")
        if self.test_endpoint:
            if host not in LOOPBACK_HOSTS:
                raise ValueError("test_endpoint allows only a loopback endpoint (127.0.0.1, localhost, ::1)")
            return self
        if not is_yandex_api_host(host):
            raise ValueError(
                "endpoint: the IAM token goes to this host, so it must be Yandex Cloud's API "
                f"({', '.join(YANDEX_API_DOMAINS)}); a test's loopback API needs test_endpoint: true"
            )
        return self
