"""Each step of a canary release changes only what it should: the program synthesized step by step.

The release record is rewritten as the pipeline rewrites it, each record is
synthesized under synth's mocks, and consecutive runs are compared with
synth's diff. Expected sets are named here from what the step means (the
canary's four objects, the release's migration), not read from the rules.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from infra.ops.canary import transitions
from infra.ops.canary.blast import Change, outside
from infra.ops.canary.steps import StepDiff, release_steps, step_diffs, synthesize_record
from infra.ops.releases.record import Recorded, read_release
from infra.ops.synth.diff import diff_resources
from infra.settings.loader import read_profile
from tests.conftest import PROJECT_DIR, STACKS

NEXT_REVISION = "0123456789ab"  # pragma: allowlist secret (an Alembic revision id)
CANARY_OBJECTS = {
    ("kubernetes:apps/v1:Deployment", "workloads-api-canary-deployment"),
    ("kubernetes:core/v1:Service", "workloads-api-canary-service"),
    ("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "workloads-api-canary-autoscaler"),
    ("kubernetes:policy/v1:PodDisruptionBudget", "workloads-api-canary-budget"),
    ("kubernetes:networking.k8s.io/v1:Ingress", "workloads-api-canary-ingress"),
}
APP_DEPLOYMENTS = {
    ("kubernetes:apps/v1:Deployment", f"workloads-{service}-deployment")
    for service in ("api", "worker", "frontend")
}


def migration_objects(revision: str) -> set[tuple[str, str]]:
    return {
        ("kubernetes:batch/v1:Job", f"workloads-migrate-{revision}"),
        ("kubernetes:postgresql.cnpg.io/v1:Backup", f"workloads-backup-{revision}"),
    }


def stable(stack: str) -> Recorded:
    record = read_release((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())
    assert record is not None
    assert record.canary is None
    return record


def next_release(stack: str, *, migrates: bool) -> Recorded:
    revision = NEXT_REVISION if migrates else stable(stack).migration_revision
    images = {
        service: "sha256:" + digit * 64
        for service, digit in (("api", "a"), ("worker", "b"), ("frontend", "c"))
    }
    return Recorded("2026.12.01-1", revision, images)


@cache
def diffs(stack: str, migrates: bool) -> dict[str, StepDiff]:
    steps = release_steps(
        stable(stack), next_release(stack, migrates=migrates), read_profile(stack)["canary"]["weights"]
    )
    return {d.step.label: d for d in step_diffs(stack, PROJECT_DIR, steps)}


def of(diff: StepDiff, op: str) -> set[tuple[str, str]]:
    return {(c.type, c.name) for c in diff.changes if c.op == op}


def labelled(stack: str, migrates: bool, kind: str) -> list[StepDiff]:
    return [d for d in diffs(stack, migrates).values() if d.step.kind == kind]


@pytest.mark.slow
@pytest.mark.parametrize("migrates", [True, False], ids=["migration", "same-schema"])
@pytest.mark.parametrize("stack", STACKS)
def test_a_canary_starts_by_adding_its_objects_and_its_migration_and_nothing_else(
    stack: str, migrates: bool
) -> None:
    (start,) = labelled(stack, migrates, "start")
    assert of(start, "create") == CANARY_OBJECTS | (migration_objects(NEXT_REVISION) if migrates else set())
    assert not of(start, "update")
    assert not of(start, "delete")
    assert not of(start, "replace")
    assert start.beyond == ()


@pytest.mark.slow
@pytest.mark.parametrize("stack", STACKS)
def test_a_weight_step_moves_only_the_canarys_share_and_its_scaling(stack: str) -> None:
    weights = read_profile(stack)["canary"]["weights"]
    steps = labelled(stack, True, "weight")
    assert [d.step.label for d in steps] == [f"weight {w} %" for w in weights[1:]]
    for step in steps:
        assert of(step, "update") <= {
            ("kubernetes:networking.k8s.io/v1:Ingress", "workloads-api-canary-ingress"),
            ("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "workloads-api-canary-autoscaler"),
        }
        assert ("kubernetes:networking.k8s.io/v1:Ingress", "workloads-api-canary-ingress") in of(
            step, "update"
        )
        assert step.count("create") == step.count("delete") == step.count("replace") == 0
        assert step.beyond == ()


@pytest.mark.slow
@pytest.mark.parametrize("migrates", [True, False], ids=["migration", "same-schema"])
@pytest.mark.parametrize("stack", STACKS)
def test_a_promotion_changes_images_and_removes_the_canary(stack: str, migrates: bool) -> None:
    (promote,) = labelled(stack, migrates, "promote")
    assert of(promote, "update") == APP_DEPLOYMENTS
    removed = CANARY_OBJECTS | (migration_objects(stable(stack).migration_revision) if migrates else set())
    assert of(promote, "delete") == removed
    assert promote.count("create") == promote.count("replace") == 0
    assert promote.beyond == ()


@pytest.mark.slow
@pytest.mark.parametrize("migrates", [True, False], ids=["migration", "same-schema"])
@pytest.mark.parametrize("stack", STACKS)
def test_an_abort_removes_the_canary_and_leaves_stable_untouched(stack: str, migrates: bool) -> None:
    (abort,) = labelled(stack, migrates, "abort")
    assert of(abort, "delete") == CANARY_OBJECTS | (migration_objects(NEXT_REVISION) if migrates else set())
    assert abort.count("create") == abort.count("update") == abort.count("replace") == 0
    assert abort.beyond == ()


def test_the_rules_refuse_what_a_step_must_not_touch() -> None:
    """Each rule can fail: a stable object in a canary step, an update in an abort, a promotion's create."""
    revisions = {"stable_revision": "aaaa1111", "canary_revision": "bbbb2222"}
    stable_deployment = Change("update", "kubernetes:apps/v1:Deployment", "workloads-api-deployment")
    canary_ingress = Change(
        "update", "kubernetes:networking.k8s.io/v1:Ingress", "workloads-api-canary-ingress"
    )
    stable_ingress = Change("update", "kubernetes:networking.k8s.io/v1:Ingress", "workloads-api-ingress")
    old_job = Change("delete", "kubernetes:batch/v1:Job", "workloads-migrate-aaaa1111")
    assert outside("weight", [stable_deployment, canary_ingress], **revisions) == [stable_deployment]
    # Started again over a canary at another weight, the canary's own objects may be updated ...
    assert outside("start", [canary_ingress], **revisions) == []
    # ... but an op no rule names (import, discard) never passes.
    imported = Change("other", "kubernetes:networking.k8s.io/v1:Ingress", "workloads-api-canary-ingress")
    assert outside("start", [imported], **revisions) == [imported]
    assert outside("abort", [stable_deployment, old_job], **revisions) == [stable_deployment, old_job]
    assert outside("promote", [stable_deployment, stable_ingress, old_job], **revisions) == [stable_ingress]
    created = Change("create", "kubernetes:apps/v1:Deployment", "workloads-api-deployment")
    assert outside("promote", [created], **revisions) == [created]
    # Putting the previous release back after a failed promotion never runs its migration again.
    old_job_again = Change("create", "kubernetes:batch/v1:Job", "workloads-migrate-aaaa1111")
    assert outside("restore", [stable_deployment, old_job_again], **revisions) == [old_job_again]
    # Without a new schema, no migration object may come or go.
    same = {"stable_revision": "aaaa1111", "canary_revision": "aaaa1111"}
    assert outside("promote", [old_job], **same) == [old_job]


@pytest.mark.slow
@pytest.mark.parametrize("stack", STACKS)
def test_a_promotion_changes_nothing_in_the_deployments_but_their_images(stack: str, tmp_path: Path) -> None:
    base = stable(stack)
    during = transitions.start(base, next_release(stack, migrates=True), 10)
    before = [r.as_json() for r in synthesize_record(stack, PROJECT_DIR, during, tmp_path).resources]
    promoted = transitions.promote(during)
    after = [r.as_json() for r in synthesize_record(stack, PROJECT_DIR, promoted, tmp_path).resources]
    updated = [c for c in diff_resources(before, after) if c.action == "updated"]
    assert {c.name for c in updated} == {name for _, name in APP_DEPLOYMENTS}
    for change in updated:
        assert [c.where for c in change.changes] == ["spec.template.spec.containers[0].image"], change.name
        (image,) = change.changes
        service = change.name.split("-")[1]
        assert image.new.endswith(promoted.images[service])
        assert image.old.endswith(base.images[service])
