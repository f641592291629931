"""The violation table: planted violations, one or more per policy and per kind of risk, caught both ways.

Each fixture is a handful of resources in synth's ``resources.json`` format,
judged (1) by ``samokoder-infra check STACK --resources FILE`` with the
stack's own policy configuration, and (2) by the real CrossGuard pack over
the analyzer protocol, configured with the same file. A fixture is caught
when its policy reports it; the table prints caught/total for each path.
"""

from __future__ import annotations

import copy
import gc
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.ops.check.config import policy_config
from infra.ops.cli import main
from infra.policy.catalog import POLICIES
from infra.settings.loader import load_settings
from tests.cli_runner import samokoder_infra
from tests.conftest import PROJECT_DIR, STACKS, stack_file_values, write_project
from tests.infra.policy.by_path import BY_PATH
from tests.infra.policy.forms import FORMS, IN_CODE
from tests.infra.policy.pack import Pack, running_pack
from tests.infra.policy.table import PATHS, Fixture
from tests.infra.policy.test_policies import secret

FIXTURES: tuple[Fixture, ...] = (*FORMS, *BY_PATH)


def as_resources_json(fixture: Fixture) -> list[dict[str, Any]]:
    return [r.recorded().as_json() for r in fixture.resources]


def _stack_config(stack: str) -> dict[str, dict[str, Any]]:
    return policy_config(load_settings(stack, stack_file_values(stack), offline=True))


def caught_by_the_command(fixture: Fixture, directory: Path, capsys: pytest.CaptureFixture[str]) -> bool:
    path = directory / f"{FIXTURES.index(fixture)}.json"
    path.write_text(json.dumps(as_resources_json(fixture)))
    spec = next(p for p in POLICIES if p.name == fixture.policy)
    try:
        code = main(["check", fixture.stack, "--resources", str(path)])
    finally:
        gc.enable()  # main() turns collection off for a short run; this process goes on
    out = capsys.readouterr().out
    marked = (
        f"{fixture.policy:<26} {spec.enforcement:<10} {'FAIL' if spec.enforcement == 'mandatory' else 'warn'}"
    )
    assert code == (1 if spec.enforcement == "mandatory" and marked in out else code)
    return marked in out


def caught_by_the_pack(pack: Pack, fixture: Fixture) -> bool:
    pack.configure(_stack_config(fixture.stack))
    spec = next(p for p in POLICIES if p.name == fixture.policy)
    resources = copy.deepcopy(fixture.resources)
    if spec.kind == "resource":
        findings = [x for r in resources for x in pack.analyze(r.type, r.name, r.props, r.protect)]
    else:
        findings = pack.analyze_stack([(r.type, r.name, r.props, r.protect) for r in resources])
    return any(x.policy == fixture.policy for x in findings)


@pytest.fixture(scope="module")
def pack() -> Iterator[Pack]:
    with running_pack() as running:
        yield running


def test_the_table_covers_every_policy_and_the_issues_44() -> None:
    assert {x.policy for x in FIXTURES} == {p.name for p in POLICIES}
    assert len(FIXTURES) >= 44
    assert len({x.name for x in FIXTURES}) == len(FIXTURES)


def test_every_path_a_resource_takes_has_fixtures() -> None:
    # Issue 24: the resource, its patch kind, Helm values, values files, the default group, rule resources.
    assert {x.path for x in FIXTURES} == set(PATHS)
    mandatory = {p.name for p in POLICIES if p.enforcement == "mandatory" and p.kind == "resource"}
    kubernetes_side = mandatory - {
        "lockbox-encrypted",
        "buckets-locked-down",
        "nodes-private",
        "no-primitive-roles",
        "security-groups-closed",
        "admin-ports-closed",
    }
    # Every policy on what reaches the cluster is tried through a patch and through a chart's values.
    for policy in kubernetes_side - {"secrets-not-in-code"}:
        paths = {x.path for x in FIXTURES if x.policy == policy}
        assert {"patch", "helm values"} <= paths, (policy, paths)
    for policy in ("security-groups-closed", "admin-ports-closed", "prod-api-private"):
        paths = {x.path for x in FIXTURES if x.policy == policy}
        assert {"resource", "default security group", "rule resource"} <= paths, (policy, paths)


def _per_path_and_intent(rows: list[tuple[Fixture, bool, bool]]) -> None:
    counts: dict[tuple[str, str], list[int]] = {}
    for fixture, by_check, by_pack in rows:
        count = counts.setdefault((fixture.path, fixture.policy), [0, 0, 0])
        count[0] += 1
        count[1] += by_check
        count[2] += by_pack
    print(f"\n{'path':<24} {'intent (policy)':<26} fixtures  caught by check / pack")
    for (path, policy), (total, checked, packed) in sorted(counts.items()):
        print(f"{path:<24} {policy:<26} {total:>8}  {checked:>5} / {packed}")


@pytest.mark.tool
def test_every_planted_violation_is_caught_by_the_command_and_by_the_pack(
    pack: Pack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(PROJECT_DIR)
    rows = []
    for fixture in FIXTURES:
        rows.append(
            (fixture, caught_by_the_command(fixture, tmp_path, capsys), caught_by_the_pack(pack, fixture))
        )
    with capsys.disabled():
        print(f"\n{'fixture':<48} {'policy':<26} {'check':<6} pack")
        for fixture, offline, packed in rows:
            print(
                f"{fixture.name:<48} {fixture.policy:<26} "
                f"{'yes' if offline else 'NO':<6} {'yes' if packed else 'NO'}"
            )
        _per_path_and_intent(rows)
        total = len(rows)
        print(
            f"caught: check --resources {sum(r[1] for r in rows)}/{total}, "
            f"CrossGuard pack {sum(r[2] for r in rows)}/{total}"
        )
    assert [r[0].name for r in rows if not (r[1] and r[2])] == []


@pytest.mark.tool
def test_what_a_resource_declares_secret_reaches_the_pack_redacted(pack: Pack) -> None:
    # How the engine sends a secret Output's value (the secret signature); CrossGuard unwraps it.
    wrapped = {
        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",  # pragma: allowlist secret
        "value": "from-lockbox-123",
    }
    pack.configure(_stack_config("staging"))
    creds = {**secret().props, "stringData": {"PASSWORD": wrapped}}
    # pulumi-kubernetes' Secret class declares its data secret, as synth records it.
    declared = pack.analyze(
        "kubernetes:core/v1:Secret", "creds", creds, secret_outputs=["data", "stringData"]
    )
    assert declared == []
    literal = pack.analyze(
        "kubernetes:core/v1:Secret", "creds", {**secret().props, "stringData": {"PASSWORD": IN_CODE}}
    )
    assert [x.policy for x in literal] == ["secrets-not-in-code"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_command_judges_a_synthesized_stack_and_exits_1_on_a_mandatory_violation(
    synthesized: Any, stack: str, tmp_path: Path
) -> None:
    project = write_project(tmp_path / "project", stack, stack_file_values(stack))
    resources = [r.as_json() for r in synthesized(stack).resources]
    clean = tmp_path / "clean.json"
    clean.write_text(json.dumps(resources))
    result = samokoder_infra(project, "check", stack, "--resources", str(clean))
    assert result.returncode == 0, result.stdout + result.stderr
    planted = tmp_path / "planted.json"
    planted.write_text(json.dumps([*resources, *as_resources_json(FIXTURES[0])]))
    result = samokoder_infra(project, "check", stack, "--resources", str(planted))
    assert result.returncode == 1
    assert "images-by-digest           mandatory  FAIL" in result.stdout
    assert not (project / "build").exists()


def test_a_bad_resources_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", "staging", stack_file_values("staging"))
    bad = tmp_path / "bad.json"
    bad.write_text('{"not": "a list"}')
    result = samokoder_infra(project, "check", "staging", "--resources", str(bad))
    assert (result.returncode, "Traceback" in result.stderr) == (2, False)
    assert "expected a list of resources" in result.stderr
