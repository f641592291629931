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
    endpoint: str = "api.cloud.yandex.net:443"

    @model_validator(mode="after")
    def _key_file_with_its_method(self) -> LockboxSettings:
        if (self.auth == "service_account_key_file") != (self.key_file is not None):
            raise ValueError("key_file is required with auth 'service_account_key_file' and only with it")
        return self
