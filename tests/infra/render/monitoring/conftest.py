"""Each stack's monitoring artifacts, generated and written once per session."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from infra.render.monitoring.bundle import MonitoringArtifacts, generate
from infra.render.monitoring.render import write_artifacts
from infra.settings.loader import load_settings
from infra.settings.stack import StackSettings
from tests.conftest import stack_file_values


@dataclass(frozen=True)
class Written:
    settings: StackSettings
    artifacts: MonitoringArtifacts
    root: Path

    @property
    def rule_paths(self) -> list[Path]:
        return sorted((self.root / "rules").glob("*.yaml"))

    @property
    def alertmanager_path(self) -> Path:
        return self.root / "alertmanager.yml"


@pytest.fixture(scope="session")
def written(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Written]:
    cache: dict[str, Written] = {}

    def get(stack: str) -> Written:
        if stack not in cache:
            settings = load_settings(stack, stack_file_values(stack), offline=True)
            artifacts = generate(settings)
            root = tmp_path_factory.mktemp(f"monitoring-{stack}")
            write_artifacts(artifacts, root)
            cache[stack] = Written(settings, artifacts, root)
        return cache[stack]

    return get
