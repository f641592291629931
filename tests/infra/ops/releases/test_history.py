"""Rollback target selection on recorded update histories."""

from __future__ import annotations

import pytest

from infra.ops.automation.rollback import unexpected
from infra.ops.automation.stack import Step
from infra.ops.releases.history import RollbackRefused, choose_target, releases
from tests.infra.ops.releases.histories import update

# Newest first, as the history lists them.
HISTORY = [
    update(6, "r3", kind="refresh"),
    update(5, "r3"),
    update(4, "r4", result="failed"),  # a failed update a later success replaced: never a target
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
        choose_target([update(1, "r1")])
    with pytest.raises(RollbackRefused, match="no successful update"):
        choose_target([update(1, "r1", result="failed")])
    with pytest.raises(RollbackRefused, match="no update that deployed a release"):
        choose_target([])


def test_a_failed_update_is_the_current_state_and_the_last_good_release_the_target() -> None:
    history = [update(2, "r2", result="failed"), update(1, "r1")]
    plan = choose_target(history)
    assert (plan.current.id, plan.current.version, plan.current.result) == ("r2", 2, "failed")
    assert (plan.target.id, plan.target.version) == ("r1", 1)
    assert plan.changed_services() == ["api", "frontend"]
    assert choose_target(history, to="r1").target.version == 1
    # A failed re-deploy of the release that ran before: re-apply that release.
    again = [update(3, "r2", result="failed"), update(2, "r2"), update(1, "r1")]
    assert (choose_target(again).target.version, choose_target(again, to="r2").target.version) == (2, 2)
    assert choose_target(again, steps=2).target.id == "r1"


def test_a_failed_update_with_a_new_migration_blocks_the_rollback_it_may_have_outrun() -> None:
    history = [
        update(3, "r3", result="failed", revision="bbbb2222"),
        update(2, "r2"),
        update(1, "r1"),
    ]
    with pytest.raises(RollbackRefused) as refused:
        choose_target(history)
    message = str(refused.value)
    assert "release r2 expects database migration revision aaaa1111" in message
    assert "the database may be at bbbb2222 (release r3, whose update 3 failed" in message
    assert "restore the database (docs/runbooks/database-restore.md)" in message
    # A failure long past, replaced by a success at the old revision, still counts: it may have migrated.
    later = [update(4, "r2"), *history]
    with pytest.raises(RollbackRefused, match="may be at bbbb2222"):
        choose_target(later, to="r1")


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
        (5, "r3", "succeeded"),
        (4, "r4", "failed"),
        (3, "r2", "succeeded"),
        (2, "r2", "succeeded"),
        (1, "r1", "succeeded"),
    ]


def test_a_rollback_preview_may_only_update_deployments_and_the_canary() -> None:
    deployment = "kubernetes:apps/v1:Deployment"
    fine = [
        Step("update", deployment, "urn:...:workloads-api-deployment"),
        # The Canary's skipAnalysis: Flagger promotes the proven release without judging it again.
        Step("update", "kubernetes:flagger.app/v1beta1:Canary", "urn:...:workloads-api-canary"),
        Step("same", "kubernetes:flagger.app/v1beta1:MetricTemplate", "urn:...:workloads-samokoder-api-x"),
    ]
    assert unexpected(fine) == []
    bad = [
        Step("replace", deployment, "urn:...:workloads-api-deployment"),
        Step("update", "kubernetes:core/v1:ConfigMap", "urn:...:workloads-config"),
        Step("create", "kubernetes:batch/v1:Job", "urn:...:workloads-migrate-x"),
        Step("delete", "kubernetes:flagger.app/v1beta1:Canary", "urn:...:workloads-api-canary"),
    ]
    assert unexpected([*fine, *bad]) == bad
