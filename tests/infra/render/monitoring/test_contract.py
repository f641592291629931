"""The contract's selectors name the conventions' jobs, namespaces and cluster; le_matcher both spellings."""

from __future__ import annotations

import re

import pytest

from infra import app_contract, conventions
from infra.render.monitoring import contract as m
from infra.render.workloads import routes


def test_the_job_selectors_name_the_jobs_the_conventions_scrape_under() -> None:
    assert f'job="{conventions.API_JOB}"' == m.API
    assert f'job="{conventions.BLACKBOX_JOB}"' == m.PROBE
    assert m.API in m.APP_USER_REQUESTS


def test_the_namespace_selectors_name_the_apps_namespace_and_database_cluster() -> None:
    namespace = f'namespace="{conventions.APP_NAMESPACE}"'
    assert m.NAMESPACE == conventions.APP_NAMESPACE
    database = m.database(conventions.DATABASE_CLUSTER)
    for matchers in (m.APP_CONTAINERS, m.API_CONTAINER, m.REDIS, m.QUEUE, database):
        assert namespace in matchers
    assert f'cluster="{conventions.DATABASE_CLUSTER}"' in database
    assert f'key="{app_contract.QUEUE_KEY}"' in m.QUEUE


def test_the_edge_selects_the_apis_ingress_and_the_app_only_its_routed_prefix() -> None:
    assert f'ingress="{routes.API}"' == m.EDGE_API
    assert f'"{app_contract.API_ROUTE_PREFIX}/.*"' in m.APP_USER_REQUESTS


@pytest.mark.parametrize(("bound", "spellings"), [(1.0, ["1", "1.0"]), (5, ["5", "5.0"]), (2.5, ["2.5"])])
def test_le_matcher_matches_a_bound_as_python_and_prometheus_3_write_it(
    bound: float, spellings: list[str]
) -> None:
    matcher = re.fullmatch(r'le(=~?)"(.*)"', m.le_matcher(bound))
    assert matcher, m.le_matcher(bound)
    op, value = matcher.groups()

    def matches(written: str) -> bool:
        return bool(re.fullmatch(value, written)) if op == "=~" else written == value

    assert all(matches(s) for s in spellings), m.le_matcher(bound)
    assert not any(matches(s) for s in ("10", "1x0", "0.1", "15", "25")), m.le_matcher(bound)
