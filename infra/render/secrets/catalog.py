"""Which Lockbox secrets a stack has, what each holds, and which Kubernetes Secrets they become.

One Lockbox secret per consumer group (``app``, ``monitoring``). An entry is
generated (random, rotated on request; a Fernet key where the app
needs one), provided (an operator's secret
config, strength-checked), plain (a non-secret part such as a host name,
kept beside the password it goes with) or external (made by another
component, such as managed Redis's password).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from infra.app_contract import DATABASE_URL, REDIS_HOST, REDIS_PORT, REDIS_URL
from infra.conventions import (
    ALERTMANAGER_RECEIVERS_SECRET,
    APP_NAMESPACE,
    APP_SECRET,
    DB_OWNER_SECRET,
    GRAFANA_ADMIN_SECRET,
    MONITORING_NAMESPACE,
    REDIS_TLS_PORT,
    Naming,
)
from infra.render.database import plan as db
from infra.render.monitoring import alertmanager as am
from infra.settings.secrets import SecretGroup
from infra.settings.stack import StackSettings

# At least 64 characters, letters and digits only: strong, and safe inside a URL.
GENERATED_LENGTH = 64


@dataclass(frozen=True)
class Entry:
    key: str
    source: Literal["generated", "fernet", "provided", "plain", "external"]
    # provided: the field of settings.secrets; plain: the value; external: made
    # by another component (the Redis password and host)
    origin: str = ""


@dataclass(frozen=True)
class Target:
    """A Kubernetes Secret that External Secrets keeps in sync with one Lockbox secret."""

    name: str
    namespace: str
    # Secret key -> Lockbox entry key
    keys: dict[str, str]
    type: str = "Opaque"
    # Secret key -> Go template over the Lockbox entries (ESO template engine v2)
    templates: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Group:
    group: SecretGroup
    description: str
    entries: tuple[Entry, ...]
    targets: tuple[Target, ...]

    def lockbox_name(self, naming: Naming) -> str:
        return naming.cloud(f"{self.group}-secrets")


def _app(managed_redis: bool) -> Group:
    url = (
        "postgresql+asyncpg://{{ .DATABASE_USER }}:{{ .DATABASE_PASSWORD }}"
        "@{{ .DATABASE_HOST }}:{{ .DATABASE_PORT }}/{{ .DATABASE_NAME }}"
    )
    entries = [
        # Both keys also serve as Fernet keys in the app (infra/app_contract.py).
        Entry("SECRET_KEY", "fernet"),
        Entry("APP_SECRET_KEY", "fernet"),
        Entry("DATABASE_PASSWORD", "generated"),
        Entry("DATABASE_USER", "plain", db.OWNER),
        Entry("DATABASE_HOST", "plain", f"{db.POOLER}.{APP_NAMESPACE}.svc"),
        Entry("DATABASE_PORT", "plain", str(db.POOLER_PORT)),
        Entry("DATABASE_NAME", "plain", db.DATABASE),
        Entry("OPENROUTER_API_KEY", "provided", "openrouter_api_key"),
    ]
    keys = ["SECRET_KEY", "APP_SECRET_KEY", "OPENROUTER_API_KEY"]
    # the parts, which the URL template reads
    keys += ["DATABASE_USER", "DATABASE_PASSWORD", "DATABASE_HOST", "DATABASE_PORT", "DATABASE_NAME"]
    templates = {DATABASE_URL.name: url}
    if managed_redis:
        # Managed Redis speaks TLS only (rediss://) on its TLS port, with a password.
        entries += [
            Entry("REDIS_PASSWORD", "external"),
            Entry(REDIS_HOST.name, "external"),
            Entry(REDIS_PORT.name, "plain", str(REDIS_TLS_PORT)),
        ]
        keys += ["REDIS_PASSWORD", REDIS_HOST.name, REDIS_PORT.name]
        templates[REDIS_URL.name] = (
            f"rediss://:{{{{ .REDIS_PASSWORD }}}}@{{{{ .REDIS_HOST }}}}:{REDIS_TLS_PORT}/0"
        )
    return Group(
        "app",
        "Keys, database credentials and LLM provider keys the Samokoder app reads",
        tuple(entries),
        (
            Target(APP_SECRET, APP_NAMESPACE, {key: key for key in keys}, templates=templates),
            # The database owner's login, which CloudNativePG keeps the role's password in step with.
            Target(
                DB_OWNER_SECRET,
                APP_NAMESPACE,
                {"username": "DATABASE_USER", "password": "DATABASE_PASSWORD"},  # pragma: allowlist secret
                type="kubernetes.io/basic-auth",
            ),
        ),
    )


def _monitoring(settings: StackSettings) -> Group:
    receivers = settings.alerting.receivers
    entries = [
        Entry("GRAFANA_ADMIN_PASSWORD", "generated"),
        Entry("WATCHDOG_URL", "provided", "watchdog_url"),
    ]
    files = {am.WATCHDOG_URL_KEY: "WATCHDOG_URL"}
    if receivers.telegram:
        entries += [
            Entry("TELEGRAM_BOT_TOKEN", "provided", "telegram_bot_token"),
            Entry("TELEGRAM_CHAT_ID", "plain", str(receivers.telegram.chat_id)),
        ]
        files[am.TELEGRAM_TOKEN_KEY] = "TELEGRAM_BOT_TOKEN"
    if receivers.email:
        entries.append(Entry("SMTP_PASSWORD", "provided", "smtp_password"))
        files[am.SMTP_PASSWORD_KEY] = "SMTP_PASSWORD"  # pragma: allowlist secret
    if receivers.pagerduty:
        entries.append(Entry("PAGERDUTY_ROUTING_KEY", "provided", "pagerduty_routing_key"))
        files[am.PAGERDUTY_KEY] = "PAGERDUTY_ROUTING_KEY"
    return Group(
        "monitoring",
        "Grafana's admin password and the credentials of the alert receivers",
        tuple(entries),
        (
            # Alertmanager reads each as a file (its *_file fields).
            Target(ALERTMANAGER_RECEIVERS_SECRET, MONITORING_NAMESPACE, files),
            Target(
                GRAFANA_ADMIN_SECRET,
                MONITORING_NAMESPACE,
                {"admin-password": "GRAFANA_ADMIN_PASSWORD"},  # pragma: allowlist secret
                templates={"admin-user": "admin"},
            ),
        ),
    )


def catalog(settings: StackSettings) -> tuple[Group, ...]:
    return (_app(settings.workloads.redis.app_reads_redis_url), _monitoring(settings))
