"""A canary step through the Automation API: the record written, a preview beyond the step's rules refused.

The pulumi CLI cannot run here, so the stack is a stand-in that answers a
preview with the steps it is given and records whether `up` was called; what
is checked is this module's own handling: which record the stack file holds
after a refused, a failed and a good step.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from infra.ops.automation import canary as step_module
from infra.ops.automation.stack import Step
from infra.ops.canary import transitions
from infra.ops.canary.pipeline import StepFailed
from infra.ops.releases.record import Recorded, read_release
from tests.conftest import PROJECT_DIR

STACK = "staging"
URN = "urn:pulumi:staging::samokoder::samokoder:workloads:Workloads${type}::{name}"
NEXT = Recorded(
    "r2", "bbbb2222", {s: "sha256:" + c * 64 for s, c in (("api", "a"), ("worker", "b"), ("frontend", "c"))}
)


@dataclass
class StandIn:
    preview: list[Step]
    up_fails: bool = False
    preview_fails: bool = False
    ups: list[dict[str, Any]] = field(default_factory=list)

    def up(self, **options: Any) -> None:
        self.ups.append(options)
        if self.up_fails:
            raise auto.errors.CommandError(
                auto.CommandResult(stdout="", stderr="Deployment timed out", code=255)
            )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("Pulumi.yaml", f"Pulumi.{STACK}.yaml"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    return tmp_path


def preview(stack: StandIn, **_: Any) -> list[Step]:
    if stack.preview_fails:
        raise auto.errors.CommandError(
            auto.CommandResult(stdout="", stderr="error: the stack is locked", code=255)
        )
    return stack.preview


def run(project: Path, monkeypatch: pytest.MonkeyPatch, stand_in: StandIn) -> tuple[Recorded, Recorded]:
    monkeypatch.setattr(step_module, "select", lambda *_: stand_in)
    monkeypatch.setattr(step_module, "registry_ids", lambda _: [])
    monkeypatch.setattr(step_module, "policy_options", lambda *_: {"policy_packs": ["policy"]})
    monkeypatch.setattr(step_module, "preview_steps", preview)
    stable = read_release((project / f"Pulumi.{STACK}.yaml").read_text())
    assert stable is not None
    started = transitions.start(stable, NEXT, 25)
    step_module.apply_step(STACK, project, "start", stable, started, on_output=lambda _: None)
    return stable, started


def step(op: str, type_: str, name: str) -> Step:
    return Step(op, type_, URN.format(type=type_, name=name))


CANARY_CREATE = step("create", "kubernetes:apps/v1:Deployment", "workloads-api-canary-deployment")
STABLE_UPDATE = step("update", "kubernetes:apps/v1:Deployment", "workloads-api-deployment")


def recorded(project: Path) -> Recorded | None:
    return read_release((project / f"Pulumi.{STACK}.yaml").read_text())


def test_a_step_within_its_rules_is_applied_from_its_record(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stand_in = StandIn([CANARY_CREATE, step("same", "kubernetes:core/v1:Service", "workloads-api-service")])
    _, started = run(project, monkeypatch, stand_in)
    assert len(stand_in.ups) == 1
    assert stand_in.ups[0]["policy_packs"] == ["policy"]
    assert recorded(project) == started


def test_a_preview_beyond_the_steps_rules_applies_nothing_and_puts_the_record_back(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = (project / f"Pulumi.{STACK}.yaml").read_text()
    stand_in = StandIn([CANARY_CREATE, STABLE_UPDATE])
    with pytest.raises(StepFailed, match="workloads-api-deployment"):
        run(project, monkeypatch, stand_in)
    assert stand_in.ups == []
    assert (project / f"Pulumi.{STACK}.yaml").read_text() == before


def test_a_failed_update_is_a_failed_step_that_leaves_its_record_for_the_abort(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stand_in = StandIn([CANARY_CREATE], up_fails=True)
    with pytest.raises(StepFailed, match="Deployment timed out"):
        run(project, monkeypatch, stand_in)
    record = recorded(project)
    assert record is not None
    assert record.canary is not None
    assert record.canary.id == NEXT.id


@pytest.mark.parametrize(
    "stand_in",
    [
        StandIn([], preview_fails=True),
        StandIn([CANARY_CREATE, step("import", "kubernetes:core/v1:Service", "workloads-api-service")]),
    ],
    ids=["preview-fails", "unknown-op"],
)
def test_a_failed_or_unreadable_preview_applies_nothing_and_puts_the_record_back(
    project: Path, monkeypatch: pytest.MonkeyPatch, stand_in: StandIn
) -> None:
    before = (project / f"Pulumi.{STACK}.yaml").read_text()
    with pytest.raises(StepFailed, match="nothing was applied"):
        run(project, monkeypatch, stand_in)
    assert stand_in.ups == []
    assert (project / f"Pulumi.{STACK}.yaml").read_text() == before
