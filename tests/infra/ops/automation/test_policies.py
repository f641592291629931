"""Operations through the Automation API run the policy pack with the stack's configuration."""

from __future__ import annotations

import inspect
import json
import shutil
from pathlib import Path

import pytest

from infra.ops.automation import cutover, restore, rollback
from infra.ops.automation.stack import OperationError, policy_options
from infra.ops.check.config import policy_config
from infra.settings.loader import load_settings
from infra.settings.source import stack_file_values
from tests.conftest import PROJECT_DIR


def project(tmp_path: Path, *, venv: bool = True) -> Path:
    shutil.copy(PROJECT_DIR / "Pulumi.prod.yaml", tmp_path / "Pulumi.prod.yaml")
    if venv:
        (tmp_path / "policy" / "venv" / "bin").mkdir(parents=True)
        (tmp_path / "policy" / "venv" / "bin" / "python").write_text("")
    return tmp_path


def test_the_pack_and_the_stacks_config_are_what_preview_and_up_get(tmp_path: Path) -> None:
    options = policy_options("prod", project(tmp_path), ["crpprodregistry00001"])
    assert options["policy_packs"] == [str(tmp_path / "policy")]
    (config_file,) = options["policy_pack_configs"]
    settings = load_settings("prod", stack_file_values(tmp_path / "Pulumi.prod.yaml"), offline=True)
    assert json.loads(Path(config_file).read_text()) == json.loads(
        json.dumps(policy_config(settings, ["crpprodregistry00001"]))
    )
    assert json.loads(Path(config_file).read_text())["prod-api-private"]["production"] is True


def test_without_the_packs_environment_nothing_runs(tmp_path: Path) -> None:
    with pytest.raises(OperationError, match=r"policy pack's environment is missing: python -m venv"):
        policy_options("prod", project(tmp_path, venv=False))


@pytest.mark.parametrize("module", [rollback, restore, cutover], ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_rollback_and_restore_pass_the_pack_to_every_preview_and_update(module: object) -> None:
    source = inspect.getsource(module)  # type: ignore[arg-type]
    calls = [line.strip() for line in source.splitlines() if "stack.preview(" in line or "stack.up(" in line]
    assert calls
    assert all("**policies" in call for call in calls), calls
