"""`samokoder-infra verify` against a real Prometheus holding ingress-nginx's history, canary beside stable.

One Prometheus on loopback, its storage backfilled by promtool from
OpenMetrics text (tests/infra/ops/canary/history.py); each scenario lives in
its own seven hours of that history (six and a half of them stable's alone,
for the 6 h burn-rate window), and is judged at its last sample through the
CLI, in a process, as an operator runs it. The numbers the CLI prints are
checked against what the scenario's own rates give over the window, the error
checks' binomial tails against every term of the distribution summed
(history.py: ``exact_tail``). Beside the plain verdicts, the scenarios that
flip the judge's floors: the same share of 500s on few and on many requests,
and a P95 over stable's times the ratio yet within the bucket above it.
"""

from __future__ import annotations

import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from infra.ops.canary.judge import ALPHA
from infra.settings.loader import load_settings
from infra.settings.source import stack_file_values
from infra.settings.stack import StackSettings
from tests.cli_runner import samokoder_infra
from tests.conftest import PROJECT_DIR
from tests.infra.ops.canary.history import (
    BOUNDS,
    Phase,
    Scenario,
    Side,
    error_ratio,
    exact_tail,
    expected,
    openmetrics,
    slow_ratio,
)
from tests.processes import free_port, serving
from tests.tools import tool

pytestmark = pytest.mark.tool

STACK = "staging"
SLOT_MINUTES = 7 * 60
HISTORY_MINUTES = 6 * 60 + 30
# The API's users' requests per second, and websocket sessions closing beside them (6 %: enough that a
# P95 counting them would land in the +Inf bucket).
RPS = 16.0
WEBSOCKETS = 0.06
CANARY_WEIGHT = 0.25
QUICK = ((0.85, 0.04), (0.12, 0.2), (0.03, 0.7))
# The paging burn-rate windows of the SRE workbook: (long, short, factor).
PAGING = (("1h", "5m", 3600, 300, 14.4), ("6h", "30m", 21600, 1800, 6.0))


def side(rps: float, **changes: Any) -> Side:
    """A side answering 0.2 % of 500s, quickly, with websocket sessions closing beside its requests."""
    return replace(
        Side(rps, error_share=0.002, latencies=QUICK, websocket_closes=rps * WEBSOCKETS), **changes
    )


def release(
    name: str,
    canary: Side | None = None,
    stable: Side | None = None,
    *,
    canary_minutes: int = 30,
    raw_labels: bool = False,
    elsewhere: Side | None = None,
) -> Scenario:
    """Stable alone for hours, then the canary beside it at its weight for the last ``canary_minutes``."""
    stable = stable or side(RPS)
    canary = canary or side(RPS * CANARY_WEIGHT)
    shared = Side(
        stable.rps * (1 - CANARY_WEIGHT),
        stable.error_share,
        stable.latencies,
        stable.websocket_closes * (1 - CANARY_WEIGHT),
    )
    phases = (
        Phase(HISTORY_MINUTES - canary_minutes, stable, elsewhere=elsewhere),
        Phase(canary_minutes, shared, canary, elsewhere=elsewhere),
    )
    return Scenario(name, phases, raw_labels=raw_labels)


# Another stack's failing, slow canary on its own host (a Prometheus shared by both stacks'
# controllers): not this stack's canary. Little enough traffic not to page this stack's SLOs.
ELSEWHERE = Side(0.5, error_share=1.0, latencies=((1.0, 5.0),))

SCENARIOS = (
    release("good", elsewhere=ELSEWHERE),
    release("errors", side(RPS * CANARY_WEIGHT, error_share=0.05)),
    release(
        "slow",
        # P95 1.5 s (92.5 % within 1 s, the rest in the 2.5 s bucket) against stable's 0.2 s.
        side(RPS * CANARY_WEIGHT, latencies=((0.925, 0.5), (0.075, 2.0))),
        side(RPS, latencies=((0.85, 0.05), (0.15, 0.2))),
    ),
    # 20 requests in 5 minutes, no websocket.
    release("few", side(20 / 300, websocket_closes=0.0)),
    # Stable answers 8 % of 500s all along (the 6 h window burns the budget); the canary 0.1 %.
    release(
        "stable burns",
        side(RPS * CANARY_WEIGHT, error_share=0.001),
        side(RPS, error_share=0.08),
        canary_minutes=15,
    ),
    Scenario("empty", ()),
    release("raw labels", raw_labels=True),
    # 1.5 % of 500s: over staging's 1 % as read, not beyond chance on a quarter of the traffic ...
    release("a few 5xx", side(RPS * CANARY_WEIGHT, error_share=0.015)),
    # ... and beyond it on ten times as many requests.
    release("many 5xx", side(RPS * CANARY_WEIGHT * 10, error_share=0.015)),
    # P95s of 90 ms (75 % of requests at 40 ms, the rest at 80 ms) and 40 ms (87.5 % at 20 ms, the
    # rest at 40 ms): over stable's x 2 as read, within the bucket bound above it (100 ms).
    release(
        "quick",
        side(RPS * CANARY_WEIGHT, latencies=((0.75, 0.04), (0.25, 0.08))),
        side(RPS, latencies=((0.875, 0.02), (0.125, 0.04))),
    ),
)


@pytest.fixture(scope="module")
def settings() -> StackSettings:
    return load_settings(STACK, stack_file_values(PROJECT_DIR / f"Pulumi.{STACK}.yaml"), offline=True)


@pytest.fixture(scope="module")
def ends() -> dict[str, float]:
    """Each scenario's last sample: seven hours apart, the last a few minutes ago, on a whole minute."""
    last = (int(time.time()) // 60 - 5) * 60
    return {
        s.name: float(last - (len(SCENARIOS) - 1 - i) * SLOT_MINUTES * 60) for i, s in enumerate(SCENARIOS)
    }


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="module")
def prometheus(
    tmp_path_factory: pytest.TempPathFactory, settings: StackSettings, ends: dict[str, float]
) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("verify-prometheus")
    history = workdir / "history.om"
    history.write_text(openmetrics([(s, ends[s.name]) for s in SCENARIOS], settings.identity.domain))
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


def rfc3339(unix: float, offset_hours: int = 0) -> str:
    zone = timezone(timedelta(hours=offset_hours))
    return datetime.fromtimestamp(unix, UTC).astimezone(zone).isoformat()


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def line(self, prefix: str) -> str:
        found = [line for line in self.out.splitlines() if line.startswith(prefix)]
        assert len(found) == 1, f"one line starting {prefix!r} expected:\n{self.out}\n{self.err}"
        return found[0]

    def numbers(self, prefix: str, pattern: str) -> tuple[str, ...]:
        line = self.line(prefix)
        match = re.search(pattern, line)
        assert match, f"{pattern!r} not in {line!r}"
        return match.groups()

    @property
    def verdict(self) -> str:
        return self.line("verdict:")


def verify(prometheus: str, *args: str) -> Run:
    result = samokoder_infra(PROJECT_DIR, "verify", STACK, "--prometheus", prometheus, *args)
    return Run(result.returncode, result.stdout, result.stderr)


@pytest.fixture(scope="module")
def runs(prometheus: str, ends: dict[str, float]) -> dict[str, Run]:
    """Every scenario judged at its last sample, with the stack's default window; in parallel."""
    with ThreadPoolExecutor(len(SCENARIOS)) as pool:
        futures = {s.name: pool.submit(verify, prometheus, "--at", rfc3339(ends[s.name])) for s in SCENARIOS}
        return {name: future.result() for name, future in futures.items()}


def window_seconds(settings: StackSettings) -> float:
    return settings.canary.analysis_minutes * 60.0


def scenario(name: str) -> Scenario:
    return next(s for s in SCENARIOS if s.name == name)


def assert_traffic_as_given(run: Run, name: str, settings: StackSettings, end: float) -> None:
    """The requests, 5xx shares and P95s printed are the scenario's own over the window."""
    window = window_seconds(settings)
    canary = expected(scenario(name), end, window, ("canary",))
    stable = expected(scenario(name), end, window, ("stable",))
    printed = run.numbers("requests:", r"canary (\d+), stable (\d+)")
    assert [int(n) for n in printed] == [round(canary.requests), round(stable.requests)]
    c_share, s_share = run.numbers("errors:", r"5xx share: canary ([\d.]+) %, stable ([\d.]+) %")
    assert float(c_share) == pytest.approx(canary.error_percent, abs=0.006)
    assert float(s_share) == pytest.approx(stable.error_percent, abs=0.006)
    c_p95, s_p95 = run.numbers("latency:", r"canary ([\d.]+) s, stable ([\d.]+) s")
    assert float(c_p95) == pytest.approx(canary.p95, abs=0.0006)
    assert float(s_p95) == pytest.approx(stable.p95, abs=0.0006)


TAIL = r"\(P\(>= \d+\) (= [\d.e+-]+|< 1e-300)\)"


def assert_tail(printed: str, exact: float) -> None:
    if printed == "< 1e-300":
        assert exact < 1e-300
    else:
        # Two significant digits.
        assert float(printed.removeprefix("= ")) == pytest.approx(exact, rel=0.051, abs=1e-300)


@dataclass(frozen=True)
class Tails:
    """The canary's 5xx against each bound, as the scenario gives them: P(X >= its 5xx)."""

    requests: int
    errors: int
    at_bound: float
    beside_stable: float


def assert_error_tails_as_given(run: Run, name: str, settings: StackSettings, end: float) -> Tails:
    """The 5xx counts, the 5xx expected at each bound and the tails printed are the scenario's own."""
    window = window_seconds(settings)
    canary = expected(scenario(name), end, window, ("canary",))
    stable = expected(scenario(name), end, window, ("stable",))
    n, k = round(canary.requests), round(canary.errors)
    n_stable, k_stable = round(stable.requests), round(stable.errors)
    printed = run.numbers("errors:", r"5xx: canary (\d+) of (\d+) requests, stable (\d+) of (\d+);")
    assert [int(p) for p in printed] == [k, n, k_stable, n_stable]
    limit = settings.canary.max_error_percent
    increase = settings.canary.max_error_increase_points
    relative = stable.error_percent + increase
    e_canary, p_canary, e_stable, p_stable, e_relative, p_relative = run.numbers(
        "errors:",
        rf"expected at {limit:g} %: canary ([\d.]+) {TAIL}, stable ([\d.]+) {TAIL}; "
        rf"at stable's [\d.]+ % \+ {increase:g} points? = [\d.]+ %: canary ([\d.]+) {TAIL}",
    )
    assert float(e_canary) == pytest.approx(n * limit / 100, abs=0.006)
    assert float(e_stable) == pytest.approx(n_stable * limit / 100, abs=0.006)
    assert float(e_relative) == pytest.approx(n * relative / 100, abs=0.006)
    tails = Tails(n, k, exact_tail(k, n, str(limit / 100)), exact_tail(k, n, str(relative / 100)))
    assert_tail(p_canary, tails.at_bound)
    assert_tail(p_stable, exact_tail(k_stable, n_stable, str(limit / 100)))
    assert_tail(p_relative, tails.beside_stable)
    return tails


def assert_burn_rates_as_given(run: Run, name: str, settings: StackSettings, end: float) -> list[str]:
    """Each paging window's printed ratios are the scenario's own; returns the windows that fire."""
    budgets = {
        "availability": 1 - settings.slo.availability_percent / 100,
        "latency": 1 - settings.slo.latency_percent / 100,
    }
    firing = []
    for slo, budget in budgets.items():
        for long, short, long_s, short_s, factor in PAGING:
            if slo == "availability":
                ratios = [error_ratio(scenario(name), end, s) for s in (long_s, short_s)]
            else:
                threshold = settings.slo.latency_threshold_seconds
                ratios = [slow_ratio(scenario(name), end, s, threshold) for s in (long_s, short_s)]
            outcome, *printed = run.numbers(
                f"burn {slo} {long}/{short}:",
                rf"(PASS|INCONCLUSIVE): .* {long} ([\d.]+) %, over {short} ([\d.]+) %",
            )
            assert [float(p) for p in printed] == pytest.approx([100 * r for r in ratios], abs=0.006)
            fires = all(r > factor * budget for r in ratios)
            assert outcome == ("INCONCLUSIVE" if fires else "PASS"), run.out
            if fires:
                firing.append(f"{slo} {long}/{short}")
    return firing


def test_what_is_judged_is_printed_first(
    runs: dict[str, Run], settings: StackSettings, ends: dict[str, float]
) -> None:
    first, second, *_ = runs["good"].out.splitlines()
    assert first.startswith(f'verify {STACK}: the canary (canary="samokoder-samokoder-api-canary-8000")')
    assert 'against stable (canary="")' in first
    assert f'host="{settings.identity.domain}"' in first
    assert 'ingress="samokoder-api"' in first
    assert f"window {settings.canary.analysis_minutes}m" in second
    assert datetime.fromtimestamp(ends["good"], UTC).strftime("%Y-%m-%dT%H:%M:%S") in second


def test_a_good_canary_is_promoted(
    runs: dict[str, Run], settings: StackSettings, ends: dict[str, float]
) -> None:
    run = runs["good"]
    assert run.code == 0, run.out + run.err
    assert run.verdict.startswith("verdict: PROMOTE")
    assert_traffic_as_given(run, "good", settings, ends["good"])
    assert assert_burn_rates_as_given(run, "good", settings, ends["good"]) == []
    tails = assert_error_tails_as_given(run, "good", settings, ends["good"])
    assert min(tails.at_bound, tails.beside_stable) >= 0.01
    for check in ("requests:", "errors:", "latency:"):
        assert ": PASS:" in run.line(check)


def test_a_canary_with_5_percent_of_500s_is_rolled_back(
    runs: dict[str, Run], settings: StackSettings, ends: dict[str, float]
) -> None:
    run = runs["errors"]
    assert run.code == 1, run.out + run.err
    assert_traffic_as_given(run, "errors", settings, ends["errors"])
    assert ": FAIL:" in run.line("errors:")
    assert ": PASS:" in run.line("latency:")
    assert run.verdict.startswith("verdict: ROLL BACK")
    assert "errors" in run.verdict
    # 5 % of 500s among the canary's requests, websockets counted: above 4.7 %, well over the bound,
    # and far beyond chance.
    c_share, _ = run.numbers("errors:", r"5xx share: canary ([\d.]+) %, stable ([\d.]+) %")
    assert float(c_share) > settings.canary.max_error_percent
    tails = assert_error_tails_as_given(run, "errors", settings, ends["errors"])
    assert tails.at_bound < 1e-6
    assert f"errors: canary over {settings.canary.max_error_percent:g} % ({tails.errors} 5xx" in run.verdict


@pytest.mark.parametrize(("name", "code"), [("a few 5xx", 0), ("many 5xx", 1)])
def test_the_same_share_of_500s_is_chance_on_few_requests_and_a_regression_on_many(
    runs: dict[str, Run], settings: StackSettings, ends: dict[str, float], name: str, code: int
) -> None:
    run = runs[name]
    assert run.code == code, run.out + run.err
    assert_traffic_as_given(run, name, settings, ends[name])
    tails = assert_error_tails_as_given(run, name, settings, ends[name])
    # Over the bound as read, either way: the share alone once rolled both back.
    c_share, _ = (float(n) for n in run.numbers("errors:", r"canary ([\d.]+) %, stable ([\d.]+) %"))
    assert c_share > settings.canary.max_error_percent
    if code == 0:
        assert tails.requests < 2000
        assert min(tails.at_bound, tails.beside_stable) >= 0.01
        assert ": PASS:" in run.line("errors:")
        assert run.verdict.startswith("verdict: PROMOTE")
    else:
        assert tails.requests > 10_000
        assert tails.at_bound < 0.01
        assert ": FAIL:" in run.line("errors:")
        assert run.verdict.startswith("verdict: ROLL BACK (exit 1): errors: canary over")
    assert ": PASS:" in run.line("latency:")


def test_a_slow_canary_is_rolled_back(
    runs: dict[str, Run], settings: StackSettings, ends: dict[str, float]
) -> None:
    run = runs["slow"]
    assert run.code == 1, run.out + run.err
    assert_traffic_as_given(run, "slow", settings, ends["slow"])
    c_p95, s_p95 = (float(n) for n in run.numbers("latency:", r"canary ([\d.]+) s, stable ([\d.]+) s"))
    assert c_p95 == pytest.approx(1.5, abs=0.001)
    assert s_p95 == pytest.approx(0.2, abs=0.001)
    assert ": FAIL:" in run.line("latency:")
    assert ": PASS:" in run.line("errors:")
    assert run.verdict.startswith("verdict: ROLL BACK")
    assert "latency" in run.verdict
    # Over the SLO's threshold, and past the bucket bound at or above stable's P95 x the ratio.
    threshold, ratio = settings.slo.latency_threshold_seconds, settings.canary.max_latency_ratio
    above = min(b for b in BOUNDS if b >= s_p95 * ratio)
    assert c_p95 > threshold
    assert c_p95 > above
    assert f"read at the bucket bound {above:g} s" in run.line("latency:")
    assert f"canary's {c_p95:.3f} s over the SLO's {threshold:g} s" in run.verdict


def test_a_quick_canary_within_the_bucket_above_stables_is_promoted(
    runs: dict[str, Run], settings: StackSettings, ends: dict[str, float]
) -> None:
    run = runs["quick"]
    assert run.code == 0, run.out + run.err
    assert_traffic_as_given(run, "quick", settings, ends["quick"])
    c_p95, s_p95 = (float(n) for n in run.numbers("latency:", r"canary ([\d.]+) s, stable ([\d.]+) s"))
    assert [c_p95, s_p95] == pytest.approx([0.09, 0.04], abs=0.001)
    ratio = settings.canary.max_latency_ratio
    above = min(b for b in BOUNDS if b >= s_p95 * ratio)
    # Slower than stable's x the ratio as read (once a rollback), not past the bucket bound above it.
    assert s_p95 * ratio < c_p95 <= above
    assert f"read at the bucket bound {above:g} s" in run.line("latency:")
    assert ": PASS:" in run.line("latency:")
    assert run.verdict.startswith("verdict: PROMOTE")


def test_twenty_requests_decide_nothing(
    runs: dict[str, Run], settings: StackSettings, ends: dict[str, float]
) -> None:
    run = runs["few"]
    assert run.code == 3, run.out + run.err
    needed = settings.canary.min_requests
    assert needed > 20
    assert f"20 requests, {needed} needed" in run.line("requests:")
    assert ": INCONCLUSIVE:" in run.line("requests:")
    assert "NOT JUDGED" in run.line("errors:")
    assert "NOT JUDGED" in run.line("latency:")
    assert run.verdict.startswith("verdict: INCONCLUSIVE")
    assert f"20 requests, {needed} needed" in run.verdict


def test_stable_burning_its_budget_holds_a_good_canary(
    runs: dict[str, Run], settings: StackSettings, ends: dict[str, float]
) -> None:
    run = runs["stable burns"]
    assert run.code == 3, run.out + run.err
    assert_traffic_as_given(run, "stable burns", settings, ends["stable burns"])
    firing = assert_burn_rates_as_given(run, "stable burns", settings, ends["stable burns"])
    # The scenario is built so that the 6 h window pages and the 1 h one does not.
    assert firing == ["availability 6h/30m"]
    assert ": PASS:" in run.line("errors:")
    assert ": PASS:" in run.line("latency:")
    c_share, s_share = (float(n) for n in run.numbers("errors:", r"canary ([\d.]+) %, stable ([\d.]+) %"))
    assert c_share < settings.canary.max_error_percent < s_share
    assert run.verdict.startswith("verdict: INCONCLUSIVE")
    assert "not because of the canary" in run.verdict
    assert f"canary {c_share:.2f} % <= stable {s_share:.2f} %" in run.verdict


def test_no_series_at_all_is_inconclusive(runs: dict[str, Run]) -> None:
    run = runs["empty"]
    assert run.code == 3, run.out + run.err
    assert "no data" in run.line("requests:")
    assert "canary no data, stable no data" in run.line("requests:")
    assert run.verdict.startswith("verdict: INCONCLUSIVE")
    assert "no data" in run.verdict
    for line in run.out.splitlines():
        if line.startswith("burn "):
            assert ": PASS:" in line
            assert line.count("no data") == 2


def test_raw_label_names_are_judged_alike(
    runs: dict[str, Run], settings: StackSettings, ends: dict[str, float]
) -> None:
    run = runs["raw labels"]
    assert run.code == 0, run.out + run.err
    assert_traffic_as_given(run, "raw labels", settings, ends["raw labels"])
    assert assert_burn_rates_as_given(run, "raw labels", settings, ends["raw labels"]) == []


def test_a_window_and_a_time_with_an_offset(
    prometheus: str, settings: StackSettings, ends: dict[str, float]
) -> None:
    """The same instant written at +03:00, judged over 10 minutes: the canary's 30 minutes hold 10 of them."""
    end = ends["errors"]
    run = verify(prometheus, "--at", rfc3339(end, offset_hours=3), "--window", "10m")
    assert run.code == 1, run.out + run.err
    assert "window 10m (600 s)" in run.out
    canary = expected(scenario("errors"), end, 600, ("canary",))
    stable = expected(scenario("errors"), end, 600, ("stable",))
    printed = run.numbers("requests:", r"canary (\d+), stable (\d+)")
    assert [int(n) for n in printed] == [round(canary.requests), round(stable.requests)]


def test_a_window_before_the_canary_started_has_no_canary_data(
    prometheus: str, ends: dict[str, float]
) -> None:
    run = verify(prometheus, "--at", rfc3339(ends["good"] - 3600), "--window", "10m")
    assert run.code == 3, run.out + run.err
    assert "no data: no canary series in the window" in run.line("requests:")


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--at", "2026-11-20T14:00:00"), "--at"),
        (("--window", "10 minutes"), "--window"),
        (("--window", "0m"), "--window"),
        (("--timeout", "0"), "--timeout"),
    ],
)
def test_bad_arguments(prometheus: str, args: tuple[str, ...], named: str) -> None:
    run = verify(prometheus, *args)
    assert run.code == 2
    assert f"argument {named}" in run.err
    assert "Traceback" not in run.err


def test_an_unreachable_prometheus(prometheus: str) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    run = verify(nobody, "--at", "2026-11-20T14:00:00Z")
    assert run.code == 2
    assert f"--prometheus {nobody}" in run.err
    assert "cannot reach" in run.err
    assert "Traceback" not in run.err


def test_a_prometheus_path_that_is_not_the_api(prometheus: str) -> None:
    run = verify(f"{prometheus}/elsewhere", "--at", "2026-11-20T14:00:00Z")
    assert run.code == 2
    assert "HTTP 404" in run.err
    assert "Traceback" not in run.err


def test_the_help_says_the_judges_rules() -> None:
    result = samokoder_infra(PROJECT_DIR, "verify", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert f"P < {ALPHA:g} of as many 5xx at the bound's share" in text
    assert "read at the next bucket bound" in text


def test_an_unknown_stack(prometheus: str) -> None:
    result = samokoder_infra(PROJECT_DIR, "verify", "nowhere", "--prometheus", prometheus)
    assert result.returncode == 2
    assert "unknown stack 'nowhere'" in result.stderr
