"""Rollback target selection on recorded update histories."""

from __future__ import annotations

import pytest

from infra.ops.automation.rollback import Step, unexpected
from infra.ops.releases.history import RollbackRefused, choose_target, releases
from tests.infra.ops.releases.histories import update

# Newest first, as the history lists them.
HISTORY = [
    update(6, "r4", result="failed"),  # a failed update never counts
    update(5, "r3"),
    update(4, "r3", kind="refresh"),
    update(3, "r2"),
    update(2, "r2"),  # the same release deployed twice is one release
    update(1, "r1"),
]


def test_the_last_successful_release_before_the_current_one() -> None:
    plan = choose_target(HISTORY)
    assert (plan.current.id, plan.current.version) == ("r3", 5)
    assert (plan.target.id, plan.target.version) == ("r2", 3)
    assert plan.changed_services() == ["api", "worker"]


def test_steps_go_further_back_over_distinct_releases() -> None:
    assert choose_target(HISTORY, steps=2).target.id == "r1"
    with pytest.raises(RollbackRefused, match="only 2 earlier successful release"):
        choose_target(HISTORY, steps=3)


def test_to_names_the_release() -> None:
    assert choose_target(HISTORY, to="r1").target.version == 1
    with pytest.raises(
        RollbackRefused, match="no earlier successful update deployed release 'r9'; earlier releases: r2, r1"
    ):
        choose_target(HISTORY, to="r9")
    with pytest.raises(RollbackRefused, match="release r3 is the one deployed now"):
        choose_target(HISTORY, to="r3")
    # r4 exists only as a failed update: not a target.
    with pytest.raises(RollbackRefused, match="'r4'"):
        choose_target(HISTORY, to="r4")


def test_without_an_earlier_release_there_is_nothing_to_roll_back_to() -> None:
    with pytest.raises(RollbackRefused, match="only 0 earlier successful release"):
        choose_target([update(1, "r1"), update(2, "r2", result="failed")][::-1])
    with pytest.raises(RollbackRefused, match="no successful update"):
        choose_target([update(1, "r1", result="failed")])


def test_a_release_from_before_a_migration_is_refused() -> None:
    history = [update(3, "r3", revision="bbbb2222"), update(2, "r2", revision="aaaa1111")]
    with pytest.raises(RollbackRefused) as refused:
        choose_target(history)
    message = str(refused.value)
    assert "release r2 expects database migration revision aaaa1111" in message
    assert "the database is at bbbb2222 (release r3)" in message
    assert "database-restore.md" in message


def test_the_release_list_is_newest_first_with_results() -> None:
    listed = releases(HISTORY)
    assert [(r.version, r.id, r.result) for r in listed] == [
        (6, "r4", "failed"),
        (5, "r3", "succeeded"),
        (3, "r2", "succeeded"),
        (2, "r2", "succeeded"),
        (1, "r1", "succeeded"),
    ]


def test_a_rollback_preview_may_only_update_deployments() -> None:
    deployment = "kubernetes:apps/v1:Deployment"
    fine = [
        Step("update", deployment, "urn:...:workloads-api-deployment"),
        Step("same", "kubernetes:core/v1:Service", "urn:...:workloads-api-service"),
    ]
    assert unexpected(fine) == []
    bad = [
        Step("replace", deployment, "urn:...:workloads-api-deployment"),
        Step("update", "kubernetes:core/v1:ConfigMap", "urn:...:workloads-config"),
        Step("create", "kubernetes:batch/v1:Job", "urn:...:workloads-migrate-x"),
    ]
    assert unexpected([*fine, *bad]) == bad
