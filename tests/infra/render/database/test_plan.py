"""The backup plan: a daily six-field schedule and the hours between its runs, a bucket name valid for any
stack, one retention two ways."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from infra.conventions import Naming
from infra.render.database import plan as p
from infra.settings.database import DatabaseProfile
from tests.infra.render.monitoring.support import stack_settings

# Object Storage (S3) bucket names: 3 to 63 lowercase letters, digits, dots and hyphens, alphanumeric ends.
BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
LONGEST_STACK = "s" + "x" * 30  # StackSettings.stack allows up to 31 characters


def profile(**changes: Any) -> DatabaseProfile:
    base = {
        "instances": 1,
        "storage_gb": 20,
        "storage_class": "yc-network-hdd",
        "cpu_cores": 0.5,
        "memory_gb": 1,
        "backup_retention_days": 7,
        "backup_time_utc": "01:00",
        "archive_timeout_seconds": 300,
        "pooler_instances": 1,
        "drill_period_days": 7,
    }
    return DatabaseProfile.model_validate({**base, **changes})


@pytest.mark.parametrize(
    ("clock", "schedule"),
    [
        ("00:00", "0 0 0 * * *"),
        ("01:00", "0 0 1 * * *"),
        ("07:05", "0 5 7 * * *"),
        ("23:59", "0 59 23 * * *"),
    ],
)
def test_the_base_backup_runs_daily_at_the_profiles_time_in_cloudnativepgs_six_field_cron(
    clock: str, schedule: str
) -> None:
    assert p.backup_plan(Naming("unit"), profile(backup_time_utc=clock)).schedule == schedule


@pytest.mark.parametrize(
    ("schedule", "hours"),
    [
        ("0 0 1 * * *", 24),
        ("0 59 23 * * *", 24),
        ("0 0 0,12 * * *", 12),
        ("0 30 6,0,18,12 * * *", 6),
        # Uneven runs: the alert must wait for the longest gap (22:00 to 04:00 the next day).
        ("0 0 4,10,22 * * *", 12),
    ],
)
def test_the_hours_between_base_backups_are_the_longest_gap_of_the_schedule(
    schedule: str, hours: int
) -> None:
    assert p.hours_between_backups(schedule) == hours


@pytest.mark.parametrize(
    "schedule",
    [
        "0 0 */6 * * *",
        "0 0 2 * * 1",
        "0 0 2 1 * *",
        "0 */5 2 * * *",
        "0 0 24 * * *",
        "0 0 1,1 * * *",
        "0 0 1",
    ],
)
def test_a_schedule_whose_gaps_cannot_be_read_is_refused(schedule: str) -> None:
    with pytest.raises(ValueError, match="cannot tell the hours between base backups"):
        p.hours_between_backups(schedule)


def test_the_profiles_schedule_is_daily_whatever_its_time() -> None:
    for clock in ("00:00", "13:45", "23:59"):
        assert p.hours_between_backups(p.backup_schedule(profile(backup_time_utc=clock))) == 24


@pytest.mark.parametrize("stack", ["staging", "prod", LONGEST_STACK])
def test_the_bucket_name_is_valid_for_object_storage_for_any_stack_name(stack: str) -> None:
    bucket = p.backup_bucket_name(Naming(stack))
    assert BUCKET.fullmatch(bucket), bucket
    assert stack in bucket


def test_stacks_never_share_a_backup_bucket() -> None:
    # Bucket names are global: two stacks writing one bucket would mix their WAL.
    assert p.backup_bucket_name(Naming("staging")) != p.backup_bucket_name(Naming("prod"))


def test_backups_go_under_one_prefix_of_the_stacks_bucket() -> None:
    backups = p.backup_plan(Naming("prod"), profile())
    destination = urlsplit(backups.destination_path)
    assert (destination.scheme, destination.netloc) == ("s3", backups.bucket)
    prefix = destination.path.strip("/")
    assert re.fullmatch(r"[a-z0-9-]+", prefix), prefix


@pytest.mark.parametrize("days", [7, 30, 90, 365])
def test_the_object_store_keeps_the_profiles_retention(days: int) -> None:
    backups = p.backup_plan(Naming("unit"), profile(backup_retention_days=days))
    assert backups.retention_policy == f"{days}d"


@pytest.mark.parametrize("seconds", [1, 120, 300])
def test_the_plan_carries_the_profiles_archive_timeout(seconds: int) -> None:
    backups = p.backup_plan(Naming("unit"), profile(archive_timeout_seconds=seconds))
    assert backups.archive_timeout_seconds == seconds


def test_compression_needs_no_optional_module_of_barman_cloud() -> None:
    backups = p.backup_plan(Naming("unit"), profile())
    # snappy, lz4 and zstd need Python packages a barman-cloud build may lack.
    assert {backups.wal_compression, backups.data_compression} <= {"gzip", "bzip2"}


def test_backups_reach_yandex_object_storage_over_https() -> None:
    endpoint = urlsplit(p.S3_ENDPOINT)
    assert (endpoint.scheme, endpoint.hostname) == ("https", "storage.yandexcloud.net")
    assert p.S3_REGION == "ru-central1"


def test_postgres_is_the_apps_major_version_pinned_to_a_minor_release() -> None:
    repository, _, tag = p.POSTGRES_IMAGE.partition(":")
    assert repository == "ghcr.io/cloudnative-pg/postgresql"
    assert re.match(r"15\.[0-9]+(-|$)", tag), tag


def test_the_names_cloudnativepg_derives_belong_to_this_cluster() -> None:
    # CloudNativePG names the owner's Secret "<cluster>-app"; the pooler's Service is the Pooler's name.
    assert p.APP_CREDENTIALS_SECRET == "samokoder-db-app"  # pragma: allowlist secret (a Secret's name)
    assert p.POOLER.startswith(f"{p.CLUSTER}-")
    assert p.BACKUP_CREDENTIALS_SECRET.startswith(f"{p.CLUSTER}-")


def test_a_drill_reports_to_the_group_of_the_archive_it_restores() -> None:
    # The running cluster's first archive keeps the group it always had (no archive label).
    assert p.drill_group(stack_settings("prod")) is None
    restored = "samokoder-db-restore-20261126-0630"
    assert p.drill_group(stack_settings("prod", cut_over_to=restored)) == restored
    # A rebuild archives under a new name: its drills are that archive's, not the lost one's.
    rebuilt = stack_settings("prod", {"database.server_name": "samokoder-db-2"})
    assert p.drill_group(rebuilt) == "samokoder-db-2"
