"""Stack settings: the real profiles validate, and bad input fails with key path and reason."""

from __future__ import annotations

from typing import Any

import pytest

from infra.settings.loader import ConfigError, read_profile, validate_settings
from tests.conftest import (
    DELETE,
    STACKS,
    deployable_profile,
    provided_secrets,
    stack_file_values,
    with_changes,
)

GOOD_DIGEST = "sha256:" + "ab" * 32


def validate(
    stack: str, profile_changes: dict[str, Any] | None = None, config_changes: dict[str, Any] | None = None
) -> None:
    config = {**stack_file_values(stack), "secrets": provided_secrets()}
    validate_settings(
        stack,
        with_changes(deployable_profile(stack), profile_changes or {}),
        with_changes(config, config_changes or {}),
    )


def problems_of(
    stack: str, profile_changes: dict[str, Any] | None = None, config_changes: dict[str, Any] | None = None
) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        validate(stack, profile_changes, config_changes)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize("stack", STACKS)
def test_the_projects_own_stacks_are_valid_offline_and_with_their_secrets(stack: str) -> None:
    # Synth reads the committed stack file, which holds no secret.
    offline = validate_settings(stack, read_profile(stack), stack_file_values(stack), offline=True)
    assert offline.stack == stack
    config = {**stack_file_values(stack), "secrets": provided_secrets()}
    assert validate_settings(stack, deployable_profile(stack), config).stack == stack


@pytest.mark.parametrize("stack", STACKS)
def test_pulumi_up_refuses_a_stack_whose_secrets_are_not_set(stack: str) -> None:
    with pytest.raises(ConfigError) as caught:
        validate_settings(stack, deployable_profile(stack), stack_file_values(stack))
    (problem,) = caught.value.problems
    assert "secrets not set: openrouter_api_key, watchdog_url, telegram_bot_token" in str(problem)
    assert "pulumi config set --secret --path samokoder:secrets.openrouter_api_key" in str(problem)


# (stack, profile changes, stack-file changes, expected "file: path: reason" fragment)
BAD_INPUTS = [
    pytest.param(
        "staging",
        {"cluster.versoin": "1.30"},
        {},
        "stacks/staging.yaml: cluster.versoin: unknown key",
        id="unknown key in a profile",
    ),
    pytest.param(
        "staging",
        {},
        {"identity.region": "ru-central1"},
        "Pulumi.staging.yaml: samokoder:identity.region: unknown key",
        id="unknown key in the stack file",
    ),
    pytest.param(
        "staging",
        {"node_group.cores": "four"},
        {},
        "stacks/staging.yaml: node_group.cores: Input should be a valid integer",
        id="wrong type",
    ),
    pytest.param(
        "staging",
        {"replicas.api": 0},
        {},
        "stacks/staging.yaml: replicas.api: Input should be greater than or equal to 1",
        id="value out of range",
    ),
    pytest.param(
        "prod",
        {"network.zones": ["ru-central1-a"]},
        {},
        "stacks/prod.yaml: network.zones: a production stack needs all 3 zones",
        id="prod with a single zone",
    ),
    pytest.param(
        "staging",
        {},
        {"release.images.api": "latest"},
        "samokoder:release.images.api: must be an image digest",
        id="a tag instead of a digest",
    ),
    pytest.param(
        "staging",
        {},
        {"release.images.worker": "sha256:" + "a" * 63},
        "samokoder:release.images.worker: must be an image digest",
        id="a digest one character short",
    ),
    pytest.param(
        "staging",
        {},
        {"release.images.frontend": DELETE},
        "samokoder:release.images.frontend: required key is missing",
        id="a service without a digest",
    ),
    pytest.param(
        "staging",
        {},
        {"identity.folder_id": "my-folder"},
        "samokoder:identity.folder_id: must be a Yandex Cloud id",
        id="malformed folder id",
    ),
    pytest.param(
        "staging",
        {"network.zones": ["ru-central1-c"]},
        {},
        "stacks/staging.yaml: network.zones[0]: Input should be",
        id="a closed zone",
    ),
    pytest.param(
        "prod",
        {"cluster.regional_master": False},
        {},
        "cluster.regional_master: a production stack needs a regional",
        id="prod with a zonal master",
    ),
    pytest.param(
        "staging",
        {"thresholds.cpu": {"warning": 90, "critical": 70}},
        {},
        "thresholds.cpu: warning (90) must be below critical (70)",
        id="warning above critical",
    ),
    pytest.param(
        "staging",
        {"slo.latency_threshold_seconds": 2.0},
        {},
        "slo.latency_threshold_seconds: must be a bucket bound",
        id="latency threshold between histogram buckets",
    ),
    pytest.param(
        "staging",
        {"alerting.timezone": "Moscow"},
        {},
        "alerting.timezone: must be an IANA time zone",
        id="unknown time zone",
    ),
    pytest.param(
        "staging",
        {"database.backup_retention_days": 3},
        {},
        "database.backup_retention_days: must be at least 7 days for every stack (got 3)",
        id="backups kept under the audit's floor",
    ),
    pytest.param(
        "prod",
        {"database.backup_retention_days": 14},
        {},
        "database.backup_retention_days: must be at least 30 days for a production stack (got 14)",
        id="prod backups kept under its 30-day floor",
    ),
    pytest.param(
        "staging",
        {"database.instances": 0},
        {},
        "database.instances: must be at least 1 (got 0)",
        id="a database with no instance",
    ),
    pytest.param(
        "staging",
        {"database.archive_timeout_seconds": 600},
        {},
        "database.archive_timeout_seconds: must be at most 300 s (got 600)",
        id="WAL switched less often than every 5 minutes",
    ),
    pytest.param(
        "prod",
        {"database.instances": 1},
        {},
        "database: a production stack needs 3 database instances",
        id="prod database without replicas",
    ),
    pytest.param(
        "prod",
        {"database.recover_from": {"server_name": "samokoder-db"}},
        {},
        "stacks/prod.yaml: database: server_name must differ from recover_from.server_name ('samokoder-db')",
        id="a rebuild that would archive into the archive it reads",
    ),
    pytest.param(
        "prod",
        {
            "database.server_name": "samokoder-db-2",
            "database.recover_from": {"server_name": "samokoder-db", "target_time": "2026-12-07T10:00:00"},
        },
        {},
        "database.recover_from.target_time: must carry a UTC offset",
        id="a rebuild target time without an offset",
    ),
    pytest.param(
        "prod",
        {
            "database.server_name": "samokoder-db-2",
            "database.recover_from": {
                "server_name": "samokoder-db",
                "target_time": "2999-01-01T10:00:00+03:00",
            },
        },
        {},
        "database.recover_from.target_time: 2999-01-01T10:00:00+03:00 is in the future",
        id="a rebuild target time not yet come",
    ),
    pytest.param(
        "prod",
        {"database.recover_from": {"server": "samokoder-db"}},
        {},
        "database.recover_from.server: unknown key",
        id="a rebuild source under a misspelt key",
    ),
    pytest.param(
        "staging",
        {"database.server_name": "Samokoder_DB"},
        {},
        "database.server_name: String should match pattern",
        id="a server name that is no folder name",
    ),
    pytest.param(
        "staging",
        {"database.server_name": "samokoder-db-2", "database.recover_from": {"server_name": "samokoder-db"}},
        {"restore": {"into": "samokoder-db-2"}},
        "restore.into (samokoder-db-2) is a server name the database archives under or recovers from",
        id="a restore into the rebuilt cluster's archive",
    ),
    pytest.param(
        "staging",
        {"database.backup_time_utc": "25:00"},
        {},
        "database.backup_time_utc: must be a 24-hour time HH:MM (got '25:00')",
        id="a backup time that is not a time of day",
    ),
    pytest.param(
        "staging",
        {},
        {"release.images.admin": "sha256:" + "ab" * 32},
        "Pulumi.staging.yaml: samokoder:release.images.admin: unknown key",
        id="an image for a service that does not exist",
    ),
    pytest.param(
        "staging",
        {},
        {"release.migration_revision": "head"},
        "samokoder:release.migration_revision: String should match pattern",
        id="a migration revision that is not an Alembic id",
    ),
    pytest.param(
        "staging",
        {"workloads.api.cpu_request_m": 4000},
        {},
        "workloads.api: cpu_request_m (4000) is above cpu_limit_m (1000)",
        id="a request above its limit",
    ),
    pytest.param(
        "prod",
        {"workloads.api_max_replicas": 2},
        {},
        "workloads.api_max_replicas (2) is below replicas.api (3)",
        id="an autoscaling ceiling under the replicas",
    ),
    pytest.param(
        "staging",
        {},
        {"rotation": {"app": "2026-11-26T10:00:00"}},
        "samokoder:rotation: app: a rotation stamp needs its UTC offset",
        id="a rotation stamp without an offset",
    ),
    pytest.param(
        "staging",
        {},
        {"rotation": {"database": "2026-11-26T10:00:00+00:00"}},
        "samokoder:rotation.database.[key]: Input should be 'app' or 'monitoring'",
        id="rotation of an unknown group",
    ),
    pytest.param(
        "prod",
        {"logs.retention_days": 7},
        {},
        "logs.retention_days: must be at least 14 days in a production stack (got 7)",
        id="a production log retention shorter than two weeks",
    ),
    pytest.param(
        "staging",
        {"logs.retention_days": 0},
        {},
        "logs.retention_days: must be at least 1 day in every stack (got 0)",
        id="no log retention at all",
    ),
    pytest.param(
        "staging",
        {"logs.retention_days": 400},
        {},
        "logs.retention_days: must be at most 365 days (got 400)",
        id="a log retention of more than a year",
    ),
    pytest.param(
        "staging",
        {"secrets_policy.rotation_days": 180},
        {},
        "secrets_policy.rotation_days: must be at most 90 days, the audit's rotation period (got 180)",
        id="rotation less often than the audit asks",
    ),
    pytest.param(
        "staging",
        {},
        {"lockbox": {"auth": "service_account_key_file"}},
        "samokoder:lockbox: key_file is required with auth 'service_account_key_file'",
        id="a key-file login without the key file",
    ),
    pytest.param(
        "staging",
        {},
        {"restore": {"into": "samokoder-db"}},
        "samokoder:restore.into: must not be 'samokoder-db': a restore never replaces the running cluster",
        id="a restore over the running cluster",
    ),
    pytest.param(
        "staging",
        {},
        {"cut_over": {"to": "Drill_1"}},
        "samokoder:cut_over.to: String should match pattern",
        id="a cut-over to a name no cluster can have",
    ),
    pytest.param(
        "staging",
        {},
        {"cut_over": {"to": "drill"}},
        "samokoder:cut_over: 'drill' is no restored cluster of this stack: samokoder:restore is not set",
        id="a cut-over without a restored cluster",
    ),
    pytest.param(
        "staging",
        {},
        {"restore": {"into": "drill"}, "cut_over": {"to": "other"}},
        "samokoder:cut_over: 'other' is not this stack's restored cluster: samokoder:restore.into is 'drill'",
        id="a cut-over to a cluster that is not the restored one",
    ),
    pytest.param(
        "staging",
        {},
        {"restore": {"into": "drill"}, "cut_over": {"to": "samokoder-db"}},
        "samokoder:cut_over.to: must not be 'samokoder-db': the app is served from it without a cut-over",
        id="a cut-over to the running cluster",
    ),
    pytest.param(
        "staging",
        {},
        {"restore": {"into": "drill", "target_time": "2026-11-26T10:00:00"}},
        "samokoder:restore.target_time: must carry a UTC offset",
        id="a restore target time without an offset",
    ),
    pytest.param(
        "prod",
        {"alerting.routes.critical": ["telegram"]},
        {},
        "alerting.routes.critical: a production stack routes critical alerts",
        id="prod critical alerts that do not page",
    ),
    pytest.param(
        "staging",
        {"cluster.pod_cidr": "10.10.128.0/17"},
        {},
        "network.cidr 10.10.0.0/16 overlaps cluster.pod_cidr",
        id="overlapping ranges",
    ),
    pytest.param(
        "staging",
        {"cluster.regional_master": True},
        {},
        "cluster.regional_master needs exactly 3 zones",
        id="regional master in one zone",
    ),
    pytest.param(
        "staging",
        {},
        {"release.build": {"context": "../app"}},
        "samokoder:release: set exactly one of 'images'",
        id="both digests and a build",
    ),
    pytest.param(
        "prod",
        {"protect_stateful": False},
        {},
        "stacks/prod.yaml: protect_stateful: a production stack protects",
        id="unprotected prod",
    ),
    pytest.param(
        "staging",
        {"identity": {"cloud_id": "x"}},
        {},
        "stacks/staging.yaml: identity: belongs in Pulumi.staging.yaml",
        id="identity written in the profile",
    ),
    pytest.param(
        "staging",
        {},
        {"replicas": {"api": 5}},
        "Pulumi.staging.yaml: samokoder:replicas: unknown key",
        id="a profile setting written in the stack file",
    ),
    pytest.param(
        "staging",
        {"thresholds.cpu.critical": 120},
        {},
        "thresholds.cpu.critical: Input should be less than 100 (got 120)",
        id="a threshold above 100 %",
    ),
    pytest.param(
        "staging",
        {"thresholds.disk.warning": 0},
        {},
        "thresholds.disk.warning: Input should be greater than 0 (got 0)",
        id="a threshold of 0 %",
    ),
    pytest.param(
        "prod",
        {"slo.availability_percent": 100},
        {},
        "slo.availability_percent: must be below 100 (got 100): a 100 % objective leaves no error budget",
        id="an SLO of 100 %",
    ),
    pytest.param(
        "staging",
        {"alerting.routes.warning": ["slack"]},
        {},
        "alerting.routes.warning[0]: Input should be 'telegram', 'email' or 'pagerduty' (got 'slack')",
        id="an unknown receiver",
    ),
    pytest.param(
        "staging",
        {"alerting.routes.info": ["email"]},
        {},
        "alerting: routes.info sends to 'email', but receivers.email is not configured",
        id="a route to a receiver that is not configured",
    ),
    pytest.param(
        "staging",
        {"monitoring.retention_days": 14},
        {},
        "monitoring.retention_days (14) is shorter than slo.window_days (30)",
        id="metrics kept shorter than the SLO window",
    ),
    pytest.param(
        "staging",
        {"alerting.quiet_hours.end": "22:00"},
        {},
        "alerting.quiet_hours: start and end are both 22:00",
        id="empty quiet hours",
    ),
    pytest.param(
        "staging",
        {"thresholds.latency_p95_seconds.warning": 6},
        {},
        "thresholds.latency_p95_seconds: warning (6 s) must be below critical (5 s)",
        id="latency warning above critical",
    ),
    pytest.param(
        "prod",
        {"workloads.environment": "staging"},
        {},
        "stacks/prod.yaml: workloads.environment: a production stack runs the app with ENVIRONMENT "
        "'production' (got 'staging')",
        id="prod running the app outside production",
    ),
    pytest.param(
        "staging",
        {"workloads.environment": "qa"},
        {},
        "workloads.environment: Input should be 'production', 'staging' or 'development' (got 'qa')",
        id="an environment the app does not know",
    ),
    pytest.param(
        "staging",
        {"workloads.worker_settings": "samokoder.worker.WorkerSettings"},
        {},
        "stacks/staging.yaml: workloads.worker_settings: unknown key",
        id="the worker's settings class in the profile (the contract's now)",
    ),
    pytest.param(
        "staging",
        {"workloads.redis.app_reads_redis_url": True},
        {},
        "stacks/staging.yaml: workloads.redis.app_reads_redis_url: unknown key",
        id="the switch to managed redis (gone: redis runs in the cluster)",
    ),
    pytest.param(
        "staging",
        {"workloads.redis.managed": {"resource_preset_id": "hm3-c2-m8", "disk_size_gb": 16}},
        {},
        "stacks/staging.yaml: workloads.redis.managed: unknown key",
        id="a managed redis profile",
    ),
    pytest.param(
        "staging",
        {"workloads.redis.memory_mib": 32},
        {},
        "workloads.redis.memory_mib: Input should be greater than or equal to 64 (got 32)",
        id="redis in the cluster with too little memory",
    ),
]


@pytest.mark.parametrize(("stack", "profile", "config", "expected"), BAD_INPUTS)
def test_bad_input_is_reported_with_its_file_key_path_and_reason(
    stack: str, profile: dict[str, Any], config: dict[str, Any], expected: str
) -> None:
    problems = problems_of(stack, profile, config)
    assert any(expected in p for p in problems), problems


def test_every_problem_is_listed_in_one_error() -> None:
    problems = problems_of(
        "prod",
        {"network.zones": ["ru-central1-a"], "replicas.api": 1, "node_group.colour": "red"},
        {"release.images.api": "latest"},
    )
    paths = {p.split(": ")[1] for p in problems}
    assert {"network.zones", "replicas", "node_group.colour", "samokoder:release.images.api"} <= paths


def test_the_error_message_starts_with_the_stack_and_the_count() -> None:
    with pytest.raises(ConfigError) as caught:
        validate("staging", {"replicas.api": 0, "replicas.worker": 0})
    assert str(caught.value).startswith("invalid configuration for stack 'staging' (2 problem(s)):")


def test_staging_may_do_what_prod_may_not() -> None:
    # The production rules come from the stack, not from the values alone.
    validate("staging", {"replicas.api": 1, "node_group.preemptible": True})
    problems = problems_of("prod", {"replicas.api": 1, "node_group.preemptible": True})
    assert any("replicas: a production stack needs at least 2" in p for p in problems)
    assert any("node_group.preemptible: a production stack must not" in p for p in problems)


def test_explicit_false_and_zero_are_kept_not_defaulted() -> None:
    settings = validate_settings(
        "staging",
        with_changes(
            read_profile("staging"), {"cluster.public_ingress": False, "node_group.min_per_zone": 0}
        ),
        stack_file_values("staging"),
        offline=True,
    )
    assert settings.cluster.public_ingress is False
    assert settings.node_group.min_per_zone == 0


def test_a_build_may_replace_the_digests() -> None:
    settings = validate_settings(
        "staging",
        read_profile("staging"),
        with_changes(
            stack_file_values("staging"), {"release.images": DELETE, "release.build": {"context": "../app"}}
        ),
        offline=True,
    )
    assert settings.release.build is not None
    assert settings.release.images is None


# Weak or placeholder provided secrets: (field, value, expected reason fragment).
WEAK_SECRETS = [
    pytest.param(
        "openrouter_api_key",
        "CHANGE_ME_PLEASE_openrouter_key_0000",
        "looks like a placeholder",
        id="CHANGE_ME",
    ),
    pytest.param("smtp_password", "admin", "well-known placeholder or test value", id="admin"),
    pytest.param("smtp_password", "Password", "well-known placeholder or test value", id="password"),
    pytest.param(
        "openrouter_api_key",
        "test-secret-key-minimum-32-characters-long-for-testing-purposes",  # pragma: allowlist secret
        "well-known placeholder or test value",
        id="the audit's CI test key",
    ),
    pytest.param(
        "smtp_password", "s3cr3t-pw", "is 9 characters long; an SMTP password needs at least 12", id="short"
    ),
    pytest.param(
        "pagerduty_routing_key", "a" * 32, "repeats too few distinct characters", id="one repeated character"
    ),
    pytest.param(
        "telegram_bot_token",
        "1234567890-" + "AbCdEfGhIj" * 4,
        "does not look like a Telegram bot token",
        id="malformed",
    ),
    pytest.param(
        "watchdog_url",
        "http://hc-ping.com/2f9a4f1e-8c1d-4b1a",
        "does not look like a dead man's",
        id="plain http",
    ),
    pytest.param(
        "openrouter_api_key",
        " sk-or-v1-" + "9f" * 20,
        "leading or trailing whitespace",
        id="pasted with a space",
    ),
    pytest.param(
        "smtp_password", "<your smtp password here>", "looks like a placeholder", id="angle brackets"
    ),
    pytest.param("smtp_password", 12345678901234, "must be a string", id="a number"),
]


@pytest.mark.parametrize(("field", "value", "expected"), WEAK_SECRETS)
def test_weak_or_placeholder_secrets_are_refused_without_repeating_them(
    field: str, value: object, expected: str
) -> None:
    problems = problems_of("prod", config_changes={f"secrets.{field}": value})
    mine = [p for p in problems if f"samokoder:secrets.{field}:" in p]
    assert len(mine) == 1, problems
    assert expected in mine[0]
    assert f"pulumi config set --secret --path samokoder:secrets.{field}" in mine[0]
    assert str(value).strip() not in "\n".join(problems)


def test_an_encrypted_secret_is_taken_on_trust_offline_and_checked_when_decrypted() -> None:
    config = {**stack_file_values("staging"), "secrets": {**provided_secrets(), "smtp_password": "[secret]"}}
    # Synth reads `secure:` values as the redaction marker: it cannot check them, `up` will.
    settings = validate_settings("staging", read_profile("staging"), config, offline=True)
    assert settings.secrets.value("smtp_password") == "[secret]"


@pytest.mark.parametrize(("stack", "environment"), [("prod", "production"), ("staging", "staging")])
def test_the_projects_stacks_run_the_app_in_their_environment(stack: str, environment: str) -> None:
    settings = validate_settings(stack, read_profile(stack), stack_file_values(stack), offline=True)
    assert settings.workloads.environment == environment
