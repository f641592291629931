"""The MetricTemplates' queries on a real Prometheus holding ingress-nginx's history, as Flagger asks them.

One Prometheus on loopback, its storage backfilled by promtool from
OpenMetrics text (ingress_history.py): stable's requests and, for the last
half hour, Flagger's canary's beside them at the stack's first weight, with
the label set our Prometheus stores (and, once, the raw one). Each scenario
is judged at its last sample as Flagger judges a step (flagger_query.py: the
template filled in from the rendered Canary, the query trimmed, its last value
against the rendered Canary's thresholdRange). The values are checked against
what the scenario's own rates give over the window (ingress_history.py:
``expected``), computed without the queries.
"""

from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest

from infra.conventions import Naming
from infra.render.workloads import canary
from infra.settings.loader import load_settings
from infra.settings.stack import StackSettings
from tests.conftest import STACKS, stack_file_values
from tests.infra.render.workloads import flagger_query
from tests.infra.render.workloads.ingress_history import Phase, Scenario, Side, expected, openmetrics
from tests.processes import free_port, serving
from tests.tools import tool

pytestmark = pytest.mark.tool

SLOT_MINUTES = 90
HISTORY_MINUTES = 60
CANARY_MINUTES = 30
# The API's users' requests per second, and websocket sessions closing beside them (6 %: enough that a
# P95 counting them would land in the +Inf bucket).
RPS = 16.0
WEBSOCKETS = 0.06
QUICK = ((0.85, 0.04), (0.12, 0.2), (0.03, 0.7))


def side(rps: float, **changes: Any) -> Side:
    """A side answering 0.2 % of 500s, quickly, with websocket sessions closing beside its requests."""
    return replace(
        Side(rps, error_share=0.002, latencies=QUICK, websocket_closes=rps * WEBSOCKETS), **changes
    )


def release(
    name: str, weight: float, canary_side: Side | None = None, *, raw_labels: bool = False
) -> Scenario:
    """Stable alone, then Flagger's canary beside it at ``weight`` for the last half hour."""
    stable = side(RPS)
    ours = canary_side or side(RPS * weight)
    shared = replace(
        stable, rps=stable.rps * (1 - weight), websocket_closes=stable.websocket_closes * (1 - weight)
    )
    phases = (Phase(HISTORY_MINUTES - CANARY_MINUTES, stable), Phase(CANARY_MINUTES, shared, ours))
    return Scenario(name, phases, raw_labels=raw_labels)


def scenarios(weight: float) -> list[tuple[Scenario, set[str]]]:
    """Each scenario with the checks it must fail ("errors", "latency")."""
    return [
        (release("good canary", weight), set()),
        (release("5 % of 500s", weight, side(RPS * weight, error_share=0.05)), {"errors"}),
        # P95 1.5 s: 92.5 % of requests within 1 s, the rest in the 2.5 s bucket.
        (
            release("P95 1.5 s", weight, side(RPS * weight, latencies=((0.925, 0.5), (0.075, 2.0)))),
            {"latency"},
        ),
        # 20 requests in 5 minutes, no websocket: too few to decide either check.
        (release("20 requests", weight, side(20 / 300, websocket_closes=0.0)), {"errors", "latency"}),
        # A Prometheus that kept the request's namespace and service (honorLabels).
        (release("good canary, raw labels", weight, raw_labels=True), set()),
    ]


@dataclass(frozen=True)
class Stack:
    name: str
    settings: StackSettings
    canary: dict[str, Any]
    templates: dict[str, str]
    scenarios: list[tuple[Scenario, set[str]]]


def stack_of(name: str) -> Stack:
    settings = load_settings(name, stack_file_values(name), offline=True)
    rendered = canary.canary(Naming(name), settings.canary, settings.slo, skip_analysis=False)
    templates = canary.metric_templates(Naming(name), settings.canary, settings.slo)
    weight = settings.canary.weights[0] / 100
    return Stack(
        name,
        settings,
        rendered,
        {t["metadata"]["name"]: t["spec"]["query"] for t in templates},
        scenarios(weight),
    )


@pytest.fixture(scope="module")
def stacks() -> dict[str, Stack]:
    return {name: stack_of(name) for name in STACKS}


@pytest.fixture(scope="module")
def ends(stacks: dict[str, Stack]) -> dict[tuple[str, str], float]:
    """Each scenario's last sample: a slot apart, the last a few minutes ago, on a whole minute."""
    keys = [(s.name, scenario.name) for s in stacks.values() for scenario, _ in s.scenarios]
    last = (int(time.time()) // 60 - 5) * 60
    return {key: float(last - (len(keys) - 1 - i) * SLOT_MINUTES * 60) for i, key in enumerate(keys)}


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="module")
def prometheus(
    tmp_path_factory: pytest.TempPathFactory, stacks: dict[str, Stack], ends: dict[tuple[str, str], float]
) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("canary-prometheus")
    history = workdir / "history.om"
    # Each scenario under a name of its own: its series are its own, not another life of a counter.
    every = [
        (replace(scenario, name=f"{s.name}/{scenario.name}"), ends[s.name, scenario.name])
        for s in stacks.values()
        for scenario, _ in s.scenarios
    ]
    history.write_text(openmetrics(every, "samokoder.example"))
    data = workdir / "data"
    subprocess.run(
        [str(tool("promtool")), "tsdb", "create-blocks-from", "openmetrics", "-q", str(history), str(data)],
        check=True,
        capture_output=True,
    )
    config = workdir / "prometheus.yml"
    config.write_text("global: {}\n")
    url = f"http://127.0.0.1:{free_port()}"
    command = [
        str(tool("prometheus")),
        f"--config.file={config}",
        f"--storage.tsdb.path={data}",
        f"--web.listen-address={url.removeprefix('http://')}",
    ]
    with serving(command, workdir / "prometheus.log", lambda: _ready(url)):
        yield url


@pytest.mark.parametrize("stack", STACKS)
def test_flagger_passes_a_good_canary_and_fails_5xx_and_a_slow_p95_on_the_templates(
    stack: str, stacks: dict[str, Stack], ends: dict[tuple[str, str], float], prometheus: str
) -> None:
    s = stacks[stack]
    analysis = s.canary["spec"]["analysis"]
    checks = {m["templateRef"]["name"]: m for m in analysis["metrics"]}
    kinds = {canary.ERRORS_TEMPLATE: "errors", canary.LATENCY_TEMPLATE: "latency"}
    window = int(analysis["interval"].removesuffix("m")) * 60
    verdicts: dict[str, set[str]] = {}
    for scenario, _ in s.scenarios:
        end = ends[stack, scenario.name]
        values = flagger_query.model(s.canary, analysis["interval"])
        truth = expected(scenario, end, window, ("canary",))
        failed: set[str] = set()
        for name, template in s.templates.items():
            check = checks[name]
            value = flagger_query.run_query(prometheus, flagger_query.render(template, values), end)
            verdict = flagger_query.passes(value, check["thresholdRange"])
            shown = "no values" if value is None else f"{value:.4g}"
            print(
                f"{stack} | {scenario.name} | {check['name']}: {shown} against at most "
                f"{check['thresholdRange']['max']:g} -> {'pass' if verdict else 'FAIL'}"
            )
            if not verdict:
                failed.add(kinds[name])
            if truth.requests >= s.settings.canary.min_requests:
                want = truth.error_percent if kinds[name] == "errors" else truth.p95
                assert value == pytest.approx(want, rel=0.02), (scenario.name, name)
            else:
                assert value is None, (scenario.name, name)
        verdicts[scenario.name] = failed
    assert verdicts == {scenario.name: failing for scenario, failing in s.scenarios}
