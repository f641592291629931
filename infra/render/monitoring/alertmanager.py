"""Alertmanager configuration: routes by severity, quiet hours, inhibition.

Routing follows the audit's table: critical pages (Telegram, e-mail and
PagerDuty, short group wait), warning goes to Telegram, info goes to
Telegram and is muted during the stack's quiet hours. Watchdog goes to its
own receiver, a dead man's switch that expects it every minute.

Credentials never appear here: every receiver reads them from files of the
``ALERTMANAGER_RECEIVERS_SECRET`` Secret, which the Alertmanager pod mounts (kube-prometheus
-stack's ``alertmanagerSpec.secrets``) under ``SECRETS_DIR``.
"""

from __future__ import annotations

from typing import Any, Final

from infra.conventions import ALERTMANAGER_RECEIVERS_SECRET
from infra.settings.monitoring import AlertingProfile, QuietHours, Receiver, Receivers

SECRETS_DIR: Final = f"/etc/alertmanager/secrets/{ALERTMANAGER_RECEIVERS_SECRET}"
# Keys of that Secret.
TELEGRAM_TOKEN_KEY: Final = "telegram-bot-token"
SMTP_PASSWORD_KEY: Final = "smtp-password"
PAGERDUTY_KEY: Final = "pagerduty-routing-key"
WATCHDOG_URL_KEY: Final = "watchdog-url"
SECRET_KEYS: Final = (TELEGRAM_TOKEN_KEY, SMTP_PASSWORD_KEY, PAGERDUTY_KEY, WATCHDOG_URL_KEY)

QUIET_HOURS: Final = "quiet-hours"
NULL: Final = "null"
WATCHDOG: Final = "watchdog"
# Labels that tell two alerts of the same name apart; critical mutes warning
# and info only when they agree on all of them.
SAME_ALERT: Final = (
    "alertname",
    "service",
    "namespace",
    "slo",
    "provider",
    "operation",
    "job",
    "instance",
    "pod",
    "container",
    "persistentvolumeclaim",
    "queue_name",
)
API_DOWN_MUTES: Final = ("latency", "errors", "traffic", "slo")


def _file(key: str) -> str:
    return f"{SECRETS_DIR}/{key}"


def _receiver_config(kind: Receiver, receivers: Receivers, severity: str) -> tuple[str, dict[str, Any]]:
    """The receiver's config block: its key in a receiver and its settings."""
    if kind == "telegram" and receivers.telegram:
        telegram = {"bot_token_file": _file(TELEGRAM_TOKEN_KEY), "chat_id": receivers.telegram.chat_id}
        return "telegram_configs", {**telegram, "parse_mode": "HTML", "send_resolved": True}
    if kind == "email" and receivers.email:
        email = receivers.email
        return "email_configs", {
            "to": ", ".join(email.to),
            "from": email.sender,
            "smarthost": email.smarthost,
            "auth_username": email.username,
            "auth_password_file": _file(SMTP_PASSWORD_KEY),
            "require_tls": True,
            "send_resolved": True,
        }
    if kind == "pagerduty" and receivers.pagerduty is not None:
        pagerduty = {"routing_key_file": _file(PAGERDUTY_KEY), "severity": severity, "send_resolved": True}
        return "pagerduty_configs", pagerduty
    # The settings model rejects a route to an unconfigured receiver; this is a bug.
    raise ValueError(f"receiver {kind!r} is not configured")


def _receiver(severity: str, alerting: AlertingProfile) -> dict[str, Any]:
    receiver: dict[str, Any] = {"name": severity}
    for kind in getattr(alerting.routes, severity):
        key, config = _receiver_config(kind, alerting.receivers, severity)
        receiver.setdefault(key, []).append(config)
    return receiver


def quiet_hours_ranges(quiet: QuietHours) -> list[dict[str, str]]:
    """Alertmanager time ranges cannot wrap midnight: 22:00-08:00 is two ranges."""
    if quiet.start < quiet.end:
        return [{"start_time": quiet.start, "end_time": quiet.end}]
    ranges = [{"start_time": quiet.start, "end_time": "24:00"}]
    if quiet.end != "00:00":
        ranges.append({"start_time": "00:00", "end_time": quiet.end})
    return ranges


def alertmanager_config(alerting: AlertingProfile) -> dict[str, Any]:
    severity_routes = [
        {
            "receiver": "critical",
            "matchers": ['severity="critical"'],
            # Pages go out fast and repeat until someone acts.
            "group_wait": "10s",
            "group_interval": "1m",
            "repeat_interval": "1h",
        },
        {"receiver": "warning", "matchers": ['severity="warning"'], "repeat_interval": "4h"},
        {
            "receiver": "info",
            "matchers": ['severity="info"'],
            "repeat_interval": "24h",
            "mute_time_intervals": [QUIET_HOURS],
        },
    ]
    return {
        "global": {"resolve_timeout": "5m"},
        "route": {
            # Anything without a known severity still reaches people.
            "receiver": "warning",
            "group_by": ["alertname", "namespace", "service"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": [
                {
                    "receiver": WATCHDOG,
                    "matchers": ['alertname="Watchdog"'],
                    "group_wait": "0s",
                    "group_interval": "1m",
                    "repeat_interval": "1m",
                },
                {"receiver": NULL, "matchers": ['alertname="InfoInhibitor"']},
                {"receiver": NULL, "matchers": ['severity="none"']},
                *severity_routes,
            ],
        },
        "inhibit_rules": [
            {
                "source_matchers": ['severity="critical"'],
                "target_matchers": ['severity=~"warning|info"'],
                "equal": list(SAME_ALERT),
            },
            {
                "source_matchers": ['alertname="ApiDown"'],
                "target_matchers": ['service="api"', f'signal=~"{"|".join(API_DOWN_MUTES)}"'],
                "equal": ["namespace"],
            },
            # As kube-prometheus: the cluster's own info alerts are context and
            # only reach people beside a warning or critical in their namespace.
            # The platform's info alerts (they carry `service`) are always sent.
            {
                "source_matchers": ['alertname="InfoInhibitor"'],
                "target_matchers": ['severity="info"', 'service=""'],
                "equal": ["namespace"],
            },
        ],
        "receivers": [
            *(_receiver(severity, alerting) for severity in ("critical", "warning", "info")),
            {
                "name": WATCHDOG,
                "webhook_configs": [{"url_file": _file(WATCHDOG_URL_KEY), "send_resolved": False}],
            },
            {"name": NULL},
        ],
        "time_intervals": [
            {
                "name": QUIET_HOURS,
                "time_intervals": [
                    {"times": quiet_hours_ranges(alerting.quiet_hours), "location": alerting.timezone}
                ],
            }
        ],
    }
