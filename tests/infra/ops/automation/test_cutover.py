"""A cut-over's update and the moving of the app, against stand-ins: the Automation API's stack
(records its config, answers the preview the test gives) and a stand-in kubectl (records its calls,
answers as the test says; not named kubectl: tests/tools.py)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from infra.ops.automation import cutover
from infra.ops.automation.cutover import CutOverPlan, move_the_app, unexpected, update
from infra.ops.automation.stack import OperationError, Step
from infra.ops.releases.smoke import SmokeResult, Verdict
from tests.infra.ops.automation.test_rehearsal import calls, kubectl

RESTORED = "samokoder-db-restore-20261126-0630"
HOST = f"{RESTORED}-pooler-rw.samokoder.svc"
PLAN = CutOverPlan("staging", RESTORED, RESTORED, HOST, RESTORED)
BACK = CutOverPlan("staging", None, "samokoder-db", "samokoder-db-pooler-rw.samokoder.svc", RESTORED)
RESTORED_POOLER = f"urn:pulumi:staging::samokoder::x$y::database-restore-{RESTORED}-pooler"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
POOLER = "kubernetes:postgresql.cnpg.io/v1:Pooler"
MONITOR = "kubernetes:monitoring.coreos.com/v1:PodMonitor"
RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
LOCKBOX = Step("update", "pulumi-python:dynamic:Resource", "urn:pulumi:staging::samokoder::x$y::secrets-app")
HEALTHY = SmokeResult(
    "https://example.test", (Verdict("health", "https://example.test/api/health", True, "200"),), 1
)


class Stack:
    """What a cut-over calls on an Automation API stack, remembered."""

    def __init__(self, config: dict[str, str] | None = None, fail_up: bool = False) -> None:
        self.config = dict(config or {})
        self.fail_up = fail_up
        self.updated = False

    def get_all_config(self) -> dict[str, auto.ConfigValue]:
        return {k: auto.ConfigValue(v) for k, v in self.config.items()}

    def set_config(self, key: str, value: auto.ConfigValue, path: bool = False) -> None:
        self.config[key] = value.value

    def remove_config(self, key: str, path: bool = False) -> None:
        self.config = {k: v for k, v in self.config.items() if k != key and not k.startswith(f"{key}.")}

    def up(self, **_: Any) -> None:
        if self.fail_up:
            raise auto.errors.CommandError(auto.CommandResult(stdout="", stderr="boom", code=1))
        self.updated = True


def updated(monkeypatch: pytest.MonkeyPatch, stack: Stack, steps: list[Step], plan: CutOverPlan) -> None:
    monkeypatch.setattr(cutover, "select", lambda *_: stack)
    monkeypatch.setattr(cutover, "policy_options", lambda *_: {})
    monkeypatch.setattr(cutover, "preview_steps", lambda *_, **__: steps)
    update(plan, Path("."), lambda _: None)


def test_only_what_a_cut_over_changes_may_change() -> None:
    fine = [
        LOCKBOX,
        Step("create", POOLER, RESTORED_POOLER),
        Step("update", POLICY, "urn:...:workloads-policy-worker"),
        Step("same", "kubernetes:apps/v1:Deployment", "urn:...:workloads-worker-deployment"),
        Step("create", MONITOR, f"urn:...::database-restore-{RESTORED}-pod-monitor"),
        Step("update", RULE, "urn:...::monitoring-rules-database"),
        Step("update", "kubernetes:core/v1:ConfigMap", "urn:...::monitoring-dashboard-samokoder-database"),
    ]
    assert unexpected(fine, RESTORED) == []
    wrong = [
        Step("update", "kubernetes:apps/v1:Deployment", "urn:...:workloads-api-deployment"),
        Step("update", "pulumi-python:dynamic:Resource", "urn:...::secrets-monitoring"),
        Step("delete", "kubernetes:postgresql.cnpg.io/v1:Cluster", f"urn:...::database-restore-{RESTORED}"),
        # A pending change to the running cluster's Pooler or backups, or another restore's Pooler.
        Step("update", POOLER, "urn:...::database-pooler"),
        Step(
            "update", "kubernetes:postgresql.cnpg.io/v1:ScheduledBackup", "urn:...::database-scheduled-backup"
        ),
        Step("create", POOLER, "urn:...::database-restore-another-pooler"),
        # The running cluster's PodMonitor stays; other rules and dashboards are no cut-over's.
        Step("delete", MONITOR, "urn:...::database-pod-monitor"),
        Step("update", RULE, "urn:...::monitoring-rules-platform"),
        Step("delete", RULE, "urn:...::monitoring-rules-database"),
        Step("update", "kubernetes:core/v1:ConfigMap", "urn:...::monitoring-dashboard-samokoder-slo"),
    ]
    assert unexpected(wrong, RESTORED) == wrong
    # A stack with no restored cluster has no Pooler of one to create or delete.
    assert unexpected([Step("delete", POOLER, RESTORED_POOLER)], None) != []


def test_a_clean_preview_records_the_choice_and_updates(monkeypatch: pytest.MonkeyPatch) -> None:
    stack = Stack({"samokoder:restore.into": RESTORED})
    updated(monkeypatch, stack, [LOCKBOX, Step("update", POLICY, "urn:...:workloads-policy-api")], PLAN)
    assert stack.updated
    assert stack.config == {"samokoder:restore.into": RESTORED, "samokoder:cut_over.to": RESTORED}


def test_back_removes_the_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    stack = Stack({"samokoder:restore.into": RESTORED, "samokoder:cut_over.to": RESTORED})
    updated(monkeypatch, stack, [LOCKBOX, Step("delete", POOLER, RESTORED_POOLER)], BACK)
    assert stack.updated
    assert stack.config == {"samokoder:restore.into": RESTORED}


def test_a_preview_that_changes_more_applies_nothing_and_puts_the_config_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = {"samokoder:restore.into": RESTORED}
    stack = Stack(before)
    release = Step("update", "kubernetes:apps/v1:Deployment", "urn:...:workloads-api-deployment")
    with pytest.raises(OperationError, match="nothing was applied") as caught:
        updated(monkeypatch, stack, [LOCKBOX, release], PLAN)
    assert "workloads-api-deployment" in str(caught.value)
    assert not stack.updated
    assert stack.config == before


def test_a_failed_update_leaves_the_choice_and_says_how_to_finish_or_undo(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = Stack({"samokoder:restore.into": RESTORED}, fail_up=True)
    with pytest.raises(OperationError, match="failed part-way") as caught:
        updated(monkeypatch, stack, [LOCKBOX], PLAN)
    assert "again to finish, or the opposite one to undo" in str(caught.value)
    assert stack.config["samokoder:cut_over.to"] == RESTORED


def encoded(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def moved(
    tmp_path: Path,
    answers: dict[str, tuple[int, str]],
    plan: CutOverPlan = PLAN,
    smoke: SmokeResult = HEALTHY,
) -> list[str]:
    said: list[str] = []
    move_the_app(
        plan,
        kubectl(tmp_path, answers),
        smoke=lambda: smoke,
        progress=said.append,
        timeout_seconds=1,
        poll_seconds=0.01,
    )
    return said


def test_the_app_is_moved_in_order_and_checked_from_inside(tmp_path: Path) -> None:
    answers = {
        "get secret/samokoder-app-secrets": (0, encoded(HOST)),
        "exec deployment/samokoder-worker": (0, f"{RESTORED}\n"),
    }
    said = moved(tmp_path, answers)
    made = [line for line in calls(tmp_path) if not line.startswith(("import", "async", " ", "asyncio"))]
    assert made[0].startswith("annotate externalsecret/samokoder-app-secrets force-sync=")
    assert made[0].endswith(" --overwrite")
    assert made[1:7] == [
        "get secret/samokoder-app-secrets -o jsonpath={.data.DATABASE_HOST}",
        "rollout restart deployment/samokoder-api-primary",
        "rollout restart deployment/samokoder-worker",
        "rollout status deployment/samokoder-api-primary --timeout=1s",
        "rollout status deployment/samokoder-worker --timeout=1s",
        "exec deployment/samokoder-worker -- /app/.venv/bin/python -c ",
    ]
    # Flagger's target is never restarted: that would start a canary analysis.
    assert not any(
        "deployment/samokoder-api " in line or line.endswith("deployment/samokoder-api") for line in made
    )
    assert f"secret/samokoder-app-secrets: DATABASE_HOST is {HOST}" in said


def test_a_secret_that_keeps_the_old_host_stops_before_any_restart(tmp_path: Path) -> None:
    answers = {"get secret/samokoder-app-secrets": (0, encoded("samokoder-db-pooler-rw.samokoder.svc"))}
    with pytest.raises(OperationError, match="still has DATABASE_HOST 'samokoder-db-pooler-rw") as caught:
        moved(tmp_path, answers)
    assert "Run the same command again to finish" in str(caught.value)
    assert not any(line.startswith("rollout") for line in calls(tmp_path))


def test_an_app_that_reaches_another_cluster_is_an_error(tmp_path: Path) -> None:
    answers = {
        "get secret/samokoder-app-secrets": (0, encoded(HOST)),
        "exec deployment/samokoder-worker": (0, "samokoder-db\n"),
    }
    with pytest.raises(OperationError, match=f"the app reaches 'samokoder-db', not '{RESTORED}'"):
        moved(tmp_path, answers)


def test_a_failed_rollout_says_the_stack_is_updated_and_how_to_go_on(tmp_path: Path) -> None:
    answers = {
        "get secret/samokoder-app-secrets": (0, encoded(HOST)),
        "rollout status deployment/samokoder-worker": (1, "timed out"),
    }
    with pytest.raises(OperationError, match="the stack is updated, but moving the app failed"):
        moved(tmp_path, answers)


def test_a_failed_smoke_probe_after_the_move_is_named(tmp_path: Path) -> None:
    answers = {
        "get secret/samokoder-app-secrets": (0, encoded(HOST)),
        "exec deployment/samokoder-worker": (0, f"{RESTORED}\n"),
    }
    redis = Verdict("redis", "https://example.test/api/health/health/components/redis", False, "HTTP 503")
    broken = SmokeResult("https://example.test", (*HEALTHY.verdicts, redis), 3)
    said = rf"reaches {RESTORED}, but smoke check .* redis failed \(redis: HTTP 503\)"
    with pytest.raises(OperationError, match=said):
        moved(tmp_path, answers, smoke=broken)
