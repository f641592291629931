"""The chart list: each pinned to an exact version of an https repository, each installed by the program."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

from infra.ops.synth.runner import Synthesis
from infra.render import charts
from infra.render.charts import Chart
from tests.conftest import STACKS

Synth = Callable[[str], Synthesis]
RELEASE = "kubernetes:helm.sh/v3:Release"
PINNED = {name: c for name, c in vars(charts).items() if isinstance(c, Chart)}
# One version, no range or tag: "1.2.3" or "v1.2.3".
EXACT = re.compile(r"v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")


def test_the_list_is_not_empty_and_names_each_chart_once() -> None:
    assert len(PINNED) >= 8
    names = [c.name for c in PINNED.values()]
    assert len(names) == len(set(names)), names


@pytest.mark.parametrize("chart", PINNED.values(), ids=PINNED.keys())
def test_every_chart_is_pinned_to_one_exact_version(chart: Chart) -> None:
    assert EXACT.fullmatch(chart.version), chart


@pytest.mark.parametrize("chart", PINNED.values(), ids=PINNED.keys())
def test_every_repository_is_fetched_over_https(chart: Chart) -> None:
    url = urlsplit(chart.repository)
    assert url.scheme == "https", chart
    assert "." in (url.hostname or ""), chart
    assert (url.query, url.fragment) == ("", ""), chart


@pytest.mark.parametrize("stack", STACKS)
def test_the_program_installs_every_listed_chart_and_no_other(synthesized: Synth, stack: str) -> None:
    installed = {
        (r.inputs["chart"], r.inputs["version"], r.inputs["repositoryOpts"]["repo"])
        for r in synthesized(stack).of_type(RELEASE)
    }
    assert installed == {(c.name, c.version, c.repository) for c in PINNED.values()}


@pytest.mark.parametrize("stack", STACKS)
def test_each_chart_is_installed_once_per_cluster(synthesized: Synth, stack: str) -> None:
    releases = [r.inputs["chart"] for r in synthesized(stack).of_type(RELEASE)]
    assert sorted(releases) == sorted(set(releases))
