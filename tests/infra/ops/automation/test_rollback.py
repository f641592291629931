"""A rollback's config: the target's release, promoted by Flagger without analysis; put back on refusal.

The Automation API's stack stands in for the real one: it records the config set on it and
answers the preview the test gives, so what the rollback writes is read back as the program
reads ``samokoder:release``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from infra.ops.automation import rollback
from infra.ops.automation.stack import OperationError, Step
from infra.ops.releases.history import RollbackPlan, releases
from infra.settings.release import Release
from tests.infra.ops.releases.histories import update

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
CANARY = "kubernetes:flagger.app/v1beta1:Canary"


class Stack:
    """What roll_back calls on an Automation API stack, remembered."""

    def __init__(self) -> None:
        self.config: dict[str, str] = {}
        self.updated = False

    def set_config(self, key: str, value: auto.ConfigValue, path: bool = False) -> None:
        assert path
        self.config[key] = value.value

    def up(self, **_: Any) -> None:
        self.updated = True

    def release(self) -> Release:
        """The release the stack's config now holds, validated as the program validates it."""
        prefix = "samokoder:release."
        values: dict[str, Any] = {}
        for key, value in self.config.items():
            node = values
            *parents, last = key.removeprefix(prefix).split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[last] = value
        return Release.model_validate(values)


def plan() -> RollbackPlan:
    current, target = releases([update(2, "r2"), update(1, "r1")])
    return RollbackPlan(current=current, target=target)


def rolled_back(monkeypatch: pytest.MonkeyPatch, stack: Stack, steps: list[Step]) -> None:
    monkeypatch.setattr(rollback, "select", lambda *_: stack)
    monkeypatch.setattr(rollback, "registry_ids", lambda _: [])
    monkeypatch.setattr(rollback, "policy_options", lambda *_: {})
    monkeypatch.setattr(rollback, "preview_steps", lambda *_, **__: steps)
    rollback.roll_back("staging", Path("."), plan(), lambda _: None)


def test_the_target_is_promoted_without_flaggers_analysis(monkeypatch: pytest.MonkeyPatch) -> None:
    preview = [
        Step("update", DEPLOYMENT, "urn:...:workloads-api-deployment"),
        Step("update", CANARY, "urn:...:workloads-api-canary"),
    ]
    stack = Stack()
    rolled_back(monkeypatch, stack, preview)
    assert stack.updated
    release = stack.release()
    assert (release.id, release.skip_analysis) == ("r1", True)
    assert release.images is not None
    assert release.images.api == plan().target.images["api"]


def test_a_refused_preview_puts_the_current_release_back_to_be_judged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = Stack()
    created = Step("create", "kubernetes:batch/v1:Job", "urn:...:workloads-migrate-x")
    with pytest.raises(OperationError, match="more than the Deployments' images and the Canary"):
        rolled_back(monkeypatch, stack, [created])
    assert not stack.updated
    release = stack.release()
    assert (release.id, release.skip_analysis) == ("r2", False)
