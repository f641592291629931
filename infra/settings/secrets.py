"""Provided secrets, their rotation, and how the Lockbox provider signs in."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from infra.conventions import REDACTED
from infra.settings.base import StrictModel
from infra.settings.strength import RULES

SecretGroup = Literal["app", "monitoring"]


SECRET_GROUPS: tuple[SecretGroup, ...] = ("app", "monitoring")


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
    rotation_days: int = Field(ge=1)

    @field_validator("rotation_days")
    @classmethod
    def _audit_period(cls, value: int) -> int:
        if value > MAX_ROTATION_DAYS:
            raise ValueError(
                f"must be at most {MAX_ROTATION_DAYS} days, the audit's rotation period (got {value})"
            )
        return value


class ProvidedSecrets(StrictModel):
    """Secrets only operators have (``pulumi config set --secret``); checked, never printed."""

    openrouter_api_key: SecretStr | None = None
    telegram_bot_token: SecretStr | None = None
    smtp_password: SecretStr | None = None
    pagerduty_routing_key: SecretStr | None = None
    watchdog_url: SecretStr | None = None

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
        problem = RULES[name].problem(value)
        if problem:
            raise ValueError(
                f"the value {problem}; set a real one with "
                f"`pulumi config set --secret --path samokoder:secrets.{name}`"
            )
        return value

    def value(self, name: str) -> str | None:
        secret = getattr(self, name)
        return None if secret is None else str(secret.get_secret_value())


class LockboxSettings(StrictModel):
    """How the Lockbox provider authenticates (per stack: an operator, CI or a VM).

    ``environment`` (the default) is the token source the kubeconfig's plugin
    and the registry checks use: YC_SERVICE_ACCOUNT_KEY_FILE, else
    YC_IAM_TOKEN, else the VM's metadata service.
    """

    auth: Literal["service_account_key_file", "iam_token", "metadata", "environment"] = "environment"
    key_file: str | None = None
    # Gets the IAM token: only Yandex Cloud's API (YANDEX_API_DOMAINS), or with
    # `test_endpoint: true` a loopback address (the tests' fake APIs).
    endpoint: str = "api.cloud.yandex.net:443"
    test_endpoint: bool = False

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
