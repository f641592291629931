"""Run the Pulumi program in-process under the mock runtime: the offline preview.

No cloud, no CLI, no credentials: the stack's config is read from its
Pulumi.<stack>.yaml the way the CLI would pass it, and every registration is
recorded by the mock monitor.

With ``preview=True`` the run is a stack's first ``pulumi preview`` instead of
its ``pulumi up``: nothing exists yet, so ids and computed outputs are
unknown, applies on them do not run, and dynamic providers check inputs that
hold unknowns (``infra/ops/synth/preview.py``).
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pulumi

from infra.conventions import PROJECT
from infra.ops import program
from infra.ops.synth.mocks import RecordedResource, RecordingMonitor, SynthMocks, mock_id
from infra.render.monitoring.bundle import MonitoringArtifacts
from infra.settings.source import read_stack_file
from infra.settings.stack import StackSettings

STACK_TYPE = "pulumi:pulumi:Stack"
T = TypeVar("T")


@dataclass(frozen=True)
class Synthesis:
    stack: str
    settings: StackSettings
    monitoring: MonitoringArtifacts
    resources: list[RecordedResource]
    outputs: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    # A first preview's view (ids and computed outputs unknown) rather than an up's.
    preview: bool = False

    def deployed(self) -> list[RecordedResource]:
        return [r for r in self.resources if r.type != STACK_TYPE]

    def of_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str) -> RecordedResource:
        (found,) = (r for r in self.resources if r.type == type_ and r.name == name)
        return found

    def id_of(self, resource: RecordedResource) -> str:
        return mock_id(resource.type, resource.name)

    def counts_by_type(self) -> dict[str, int]:
        return dict(sorted(Counter(r.type for r in self.deployed()).items()))


@contextmanager
def _config_as_the_cli_hands_it(config: dict[str, Any], secret_keys: list[str]) -> Iterator[None]:
    """The stack's config where a `pulumi up` finds it, for the length of one run.

    The CLI's language host puts it in `PULUMI_CONFIG` and `PULUMI_CONFIG_SECRET_KEYS`
    (pulumi 1b59498, sdk/python/cmd/pulumi-language-python/main.go:88-92), and its exec
    shim loads both with `pulumi.runtime.set_all_config` (pulumi-language-python-exec:103-110):
    the same two steps here, so the program lists and reads its config as under the CLI.
    """
    names = ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS")
    before = {name: os.environ.get(name) for name in names}
    os.environ.update(dict(zip(names, (json.dumps(config), json.dumps(secret_keys)), strict=True)))
    try:
        pulumi.runtime.set_all_config(
            pulumi.runtime.get_config_env(), pulumi.runtime.get_config_secret_keys_env()
        )
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_mocked(
    body: Callable[[], T],
    stack: str,
    config: dict[str, Any] | None = None,
    secret_keys: list[str] | None = None,
    monitor: RecordingMonitor | None = None,
    *,
    preview: bool = False,
) -> tuple[T, RecordingMonitor, list[str]]:
    """Run `body` as a Pulumi program of `stack` under the mock runtime synth uses.

    Returns what `body` returned, the monitor that recorded every registration, and the
    warnings logged. Each run starts from a clean runtime, so several can run in one process.
    """
    mocks = SynthMocks(preview=preview)
    monitor = monitor or RecordingMonitor(mocks)
    # A logger outside logging's tree: this run's warnings reach its buffer alone.
    logger = logging.Logger(f"samokoder.synth.{stack}", logging.WARNING)
    collected = logging.handlers.BufferingHandler(capacity=sys.maxsize)
    logger.addHandler(collected)
    # Drops the last run's root stack, so that set_mocks makes this run's own.
    pulumi.runtime.reset_options(project=PROJECT, stack=stack, preview=preview)
    pulumi.runtime.set_mocks(
        mocks, project=PROJECT, stack=stack, preview=preview, logger=logger, monitor=monitor
    )
    returned: list[T] = []

    # `test` also clears what a failed run left unfinished: it is not this run's to wait for.
    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def run() -> None:
        returned.append(body())
        # set_mocks registered the root stack's outputs, empty, before the program ran;
        # register them again now that it has exported its own, as the CLI does at the end.
        root = pulumi.runtime.get_root_resource()
        assert isinstance(root, pulumi.ComponentResource)
        root.register_outputs(root.outputs)  # type: ignore[attr-defined]

    with _config_as_the_cli_hands_it(config or {}, secret_keys or []):
        run()
    return returned[0], monitor, [record.getMessage() for record in collected.buffer]


def synthesize(
    stack: str, project_dir: Path, monitor: RecordingMonitor | None = None, *, preview: bool = False
) -> Synthesis:
    """Run the program for `stack` under mocks and return what it registered.

    Raises `infra.settings.ConfigError` for invalid settings, before anything is registered.
    Pass `monitor` to see what was registered even when the run fails (with `preview`, a
    monitor over ``SynthMocks(preview=True)``).
    """
    stack_file = read_stack_file(project_dir / f"Pulumi.{stack}.yaml")
    platform, monitor, warnings = run_mocked(
        lambda: program.main(offline=True),
        stack,
        stack_file.config,
        stack_file.secret_keys,
        monitor,
        preview=preview,
    )
    return recorded_synthesis(stack, platform, monitor, warnings, preview=preview)


def recorded_synthesis(
    stack: str,
    platform: program.Platform,
    monitor: RecordingMonitor,
    warnings: list[str],
    *,
    preview: bool = False,
) -> Synthesis:
    return Synthesis(
        stack=stack,
        settings=platform.settings,
        monitoring=platform.monitoring_artifacts,
        resources=sorted(monitor.recorded, key=lambda r: r.urn),
        outputs=monitor.stack_outputs,
        warnings=warnings,
        preview=preview,
    )
