"""The bundle: every rule file and dashboard the Monitoring component deploys, from one call."""

from __future__ import annotations

from infra.render.monitoring import bundle
from infra.render.monitoring.alertmanager import alertmanager_config
from infra.render.monitoring.dashboards import DATABASE_UID as DATABASE
from infra.render.monitoring.dashboards import LLM_UID as LLM
from infra.render.monitoring.dashboards import REDIS_UID as REDIS
from infra.render.monitoring.dashboards import SLO_UID as SLO
from infra.render.monitoring.dashboards.golden_signals import UID as GOLDEN_SIGNALS
from tests.infra.render.monitoring.support import stack_settings

RULE_FILES = [
    *("api", "dependencies", "saturation", "product", "database", "release"),
    *("slo-availability", "slo-latency"),
]
DASHBOARDS = [GOLDEN_SIGNALS, SLO, DATABASE, REDIS]


def test_every_rule_file_comes_once_platform_backups_releases_then_slos() -> None:
    for stack in ("staging", "prod"):
        artifacts = bundle.generate(stack_settings(stack))
        assert [f.name for f in artifacts.rule_files] == RULE_FILES
        assert artifacts.rule_files == bundle.rule_files(stack_settings(stack))


def test_every_dashboard_is_keyed_by_its_own_uid_and_the_llm_one_waits_for_its_metrics() -> None:
    plain = bundle.generate(stack_settings("prod")).dashboards
    full = bundle.generate(stack_settings("prod", instrumented=True)).dashboards
    assert list(plain) == DASHBOARDS
    assert list(full) == [*DASHBOARDS, LLM]
    assert all(dashboard["uid"] == uid for uid, dashboard in full.items())


def test_alertmanager_routes_the_stacks_own_alerting_profile() -> None:
    settings = stack_settings("staging")
    assert bundle.generate(settings).alertmanager == alertmanager_config(settings.alerting)
