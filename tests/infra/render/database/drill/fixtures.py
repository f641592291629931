"""The drill of every stack, started with the session when a selected test needs it (see tests/conftest.py).

Both stacks' drills share one S3 API and run side by side in threads, while
the rest of the suite goes on; each test waits for its stack's result.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from infra.ops.synth.runner import Synthesis
from tests.conftest import STACKS
from tests.infra.render.database.drill.drill import (
    Rehearsal,
    object_storage,
    rehearse,
    rendered_settings,
    retention_days,
)
from tests.processes import settle

# Rows per batch: three batches of them.
ROWS = 2000


@pytest.fixture(scope="session")
def drill_rehearsals(
    synthesized: Callable[[str], Synthesis],
    real_tools: ThreadPoolExecutor,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Future[Rehearsal]]]:
    plans = {
        stack: (rendered_settings(synthesized(stack)), retention_days(synthesized(stack))) for stack in STACKS
    }
    env = dict(os.environ)
    with object_storage(tmp_path_factory.mktemp("drill-object-storage")) as storage:
        futures = {
            stack: real_tools.submit(rehearse, settings, ROWS, days, storage, env)
            for stack, (settings, days) in plans.items()
        }
        try:
            yield futures
        finally:
            # The S3 API stops only once no drill uses it.
            settle(futures.values())
