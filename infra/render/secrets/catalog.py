"""Which Lockbox secrets a stack has, what each holds, and which Kubernetes Secrets they become.

One Lockbox secret per consumer group (``app``, ``monitoring``). An entry is
generated (random, rotated on request; a Fernet key where the app
needs one), provided (an operator's secret
config, strength-checked; each is declared once, in ``PROVIDED_SECRETS`` of
``infra/settings/secrets.py``, and taken from there) or plain (a non-secret part
such as a host name, kept beside the password it goes with).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from infra.app_contract import DATABASE_URL
from infra.conventions import (
    ALERTMANAGER_RECEIVERS_SECRET,
    APP_NAMESPACE,
    APP_SECRET,
    DB_OWNER_SECRET,
    GRAFANA_ADMIN_SECRET,
    MONITORING_NAMESPACE,
    Naming,
)
from infra.render.database import plan as db
from infra.render.monitoring import alertmanager as am
from infra.settings.secrets import (
    PAGERDUTY_ROUTING_KEY,
    PROVIDED_SECRETS,
    SMTP_PASSWORD,
    TELEGRAM_BOT_TOKEN,
    WATCHDOG_URL,
    ProvidedSecret,
    SecretGroup,
)
from infra.settings.stack import StackSettings

# At least 64 characters, letters and digits only: strong, and safe inside a URL.
GENERATED_LENGTH = 64
# The file of the receivers' Secret each monitoring secret becomes, as Alertmanager's config reads it.
ALERTMANAGER_FILES: dict[ProvidedSecret, str] = {
    WATCHDOG_URL: am.WATCHDOG_URL_KEY,
    TELEGRAM_BOT_TOKEN: am.TELEGRAM_TOKEN_KEY,
    SMTP_PASSWORD: am.SMTP_PASSWORD_KEY,
    PAGERDUTY_ROUTING_KEY: am.PAGERDUTY_KEY,
}


@dataclass(frozen=True)
class Entry:
    key: str
    source: Literal["generated", "fernet", "provided", "plain"]
    # provided: the field of settings.secrets; plain: the value
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


def provided(settings: StackSettings, group: SecretGroup) -> tuple[ProvidedSecret, ...]:
    """The declared secrets of ``group`` the stack needs, in the declaration's order."""
    needed = set(settings.required_secrets())
    return tuple(s for s in PROVIDED_SECRETS if s.group == group and s.key in needed)


def _provided_entry(secret: ProvidedSecret) -> Entry:
    return Entry(secret.variable, "provided", secret.key)


def database_host(cluster: str) -> str:
    """The app's DATABASE_HOST when ``cluster`` serves it: its pooler's Service."""
    return f"{db.pooler_name(cluster)}.{APP_NAMESPACE}.svc"


def _app(settings: StackSettings) -> Group:
    asked = provided(settings, "app")
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
        # The pooler of the cluster that serves the app: the running one's, or after a cut-over the
        # restored one's (its own Pooler, components/database.py).
        Entry("DATABASE_HOST", "plain", database_host(settings.database_cluster)),
        Entry("DATABASE_PORT", "plain", str(db.POOLER_PORT)),
        Entry("DATABASE_NAME", "plain", db.DATABASE),
        *map(_provided_entry, asked),
    ]
    keys = ["SECRET_KEY", "APP_SECRET_KEY", *(s.variable for s in asked)]
    # the parts, which the URL template reads
    keys += ["DATABASE_USER", "DATABASE_PASSWORD", "DATABASE_HOST", "DATABASE_PORT", "DATABASE_NAME"]
    templates = {DATABASE_URL.name: url}
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
    entries = [Entry("GRAFANA_ADMIN_PASSWORD", "generated")]
    files: dict[str, str] = {}
    for secret in provided(settings, "monitoring"):
        entries.append(_provided_entry(secret))
        files[ALERTMANAGER_FILES[secret]] = secret.variable
        if secret is TELEGRAM_BOT_TOKEN and receivers.telegram:
            # The chat goes with the token: not a secret, but kept beside it.
            entries.append(Entry("TELEGRAM_CHAT_ID", "plain", str(receivers.telegram.chat_id)))
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
    return (_app(settings), _monitoring(settings))
