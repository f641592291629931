"""Shared fixtures: the project's own stacks, synthesized once per session, and the real tools' threads.

The slow work on real tools (the backup drill, the promtool unit tests, the
real Alertmanager and Prometheus) sits in session fixtures that start it in
background threads and hand out futures. When a selected test uses one, it
starts before the first test, and the tests that use them run last: the rest
of the suite runs beside that work. Each of those tests then waits for its
own result, and fails with its error.

Tests that run a real program or server are marked ``tool``; see tests/tools.py.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import secrets
import subprocess
import threading
import uuid
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.ops.synth.runner import Synthesis, synthesize
from tests.tools import runs_a_real_tool

PROJECT_DIR = Path(__file__).resolve().parent.parent
STACKS = ("staging", "prod")

# The session fixtures that do the real tools' work in the background live in
# these plugins; the ones named below start with the session when a selected test uses them.
pytest_plugins = [
    "tests.infra.render.database.drill.fixtures",
    "tests.infra.render.monitoring.fixtures",
]
STARTED_WITH_THE_SESSION = (
    "drill_rehearsals",
    "alertmanager_runs",
    "dashboard_answers",
    "promtool_runs",
)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests that wait for that background work run last (in their own order), after the rest."""
    waiting = {
        id(item)
        for item in items
        if set(getattr(item, "fixturenames", ())).intersection(STARTED_WITH_THE_SESSION)
    }
    items[:] = [item for item in items if id(item) not in waiting] + [
        item for item in items if id(item) in waiting
    ]


@pytest.fixture(scope="session")
def real_tools() -> Iterator[ThreadPoolExecutor]:
    """Threads for the real tools' work: as many jobs at a time as cores, and two more that mostly wait."""
    pool = ThreadPoolExecutor((os.cpu_count() or 2) + 2, thread_name_prefix="real-tools")
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="session", autouse=True)
def _real_tools_start_with_the_session(request: pytest.FixtureRequest) -> None:
    needed = {name for item in request.session.items for name in getattr(item, "fixturenames", ())}
    for name in STARTED_WITH_THE_SESSION:
        if name in needed:
            # pytest keeps a failing fixture's error: each test that uses it fails with it.
            with contextlib.suppress(Exception):
                request.getfixturevalue(name)


# While a run leaves out every test marked `tool` (make quick: -m "not tool"),
# any other test that starts a real program fails: it needs the marker.
_left_out_tools: list[pytest.Item] = []
_current: list[pytest.Item] = []
_popen_init = subprocess.Popen.__init__


def pytest_deselected(items: list[pytest.Item]) -> None:
    _left_out_tools.extend(item for item in items if item.get_closest_marker("tool"))


def pytest_collection_finish(session: pytest.Session) -> None:
    if _left_out_tools and not any(item.get_closest_marker("tool") for item in session.items):

        def guarded(self: subprocess.Popen[Any], args: Any, *rest: Any, **kwargs: Any) -> None:
            if _current and threading.current_thread() is threading.main_thread() and runs_a_real_tool(args):
                raise AssertionError(
                    f"{_current[-1].nodeid} runs {args!r}: a test that runs a real tool needs"
                    " @pytest.mark.tool"
                )
            _popen_init(self, args, *rest, **kwargs)

        subprocess.Popen.__init__ = guarded  # type: ignore[method-assign]


def pytest_unconfigure(config: pytest.Config) -> None:
    subprocess.Popen.__init__ = _popen_init  # type: ignore[method-assign]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    _current.append(item)
    try:
        return (yield)
    finally:
        _current.pop()


def stack_file_values(stack: str) -> dict[str, Any]:
    """The `samokoder:` values of the project's Pulumi.<stack>.yaml, decoded."""
    document = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())
    return {
        key.split(":", 1)[1]: value
        for key, value in document["config"].items()
        if key.startswith("samokoder:")
    }


def provided_secrets() -> dict[str, str]:
    """Strong values for every secret an operator provides, made up on each call (tests only)."""
    return {
        "openrouter_api_key": f"sk-or-v1-{secrets.token_hex(32)}",
        "telegram_bot_token": f"{secrets.randbelow(9 * 10**9) + 10**9}:{secrets.token_urlsafe(27)[:35]}",
        "smtp_password": secrets.token_urlsafe(18),
        "pagerduty_routing_key": secrets.token_hex(16),
        "watchdog_url": f"https://hc-ping.com/{uuid.uuid4()}",
    }


def with_changes(data: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of `data` with dotted paths set (or deleted when the value is DELETE)."""
    result = copy.deepcopy(data)
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node = result
        for part in parents:
            node = node.setdefault(part, {})
        if value is DELETE:
            node.pop(last, None)
        else:
            node[last] = value
    return result


DELETE = object()


@pytest.fixture(scope="session")
def synthesized() -> Callable[[str], Synthesis]:
    cache: dict[str, Synthesis] = {}

    def get(stack: str) -> Synthesis:
        if stack not in cache:
            cache[stack] = synthesize(stack, PROJECT_DIR)
        return cache[stack]

    return get


def write_project(root: Path, stack: str, config: dict[str, Any]) -> Path:
    """A project directory whose Pulumi.<stack>.yaml holds `config` (samokoder: keys)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    document = {"config": {f"samokoder:{k}": v for k, v in config.items()}}
    (root / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(document))
    return root


def load_json(path: Path) -> Any:
    return json.loads(path.read_text())


# What an operator writes over prod's committed placeholder (RFC 5737's 203.0.113.0/24, which a
# real run refuses) before its first `pulumi up`: the runner's reserved address and an office range.
DEPLOYED_API_ALLOWED_CIDRS = ["84.201.128.10/32", "93.158.0.0/24"]


def deployable_profile(stack: str) -> dict[str, Any]:
    """The stack's committed profile as a real run takes it: the API allow-list filled in."""
    from infra.settings.loader import read_profile  # noqa: PLC0415

    return with_changes(read_profile(stack), {"cluster.api_allowed_cidrs": DEPLOYED_API_ALLOWED_CIDRS})
