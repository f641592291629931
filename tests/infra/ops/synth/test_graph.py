"""The stack's picture: every resource drawn, components as clusters, dependencies as edges."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from infra.ops.synth.graph import reduced_edges, to_dot
from infra.ops.synth.runner import Synthesis
from infra.ops.synth.svg import render_svg
from infra.ops.synth.writer import write_synthesis
from tests.conftest import PROJECT_DIR, STACKS, load_json

Synth = Callable[[str], Synthesis]
SVG = "{http://www.w3.org/2000/svg}"


def _titles(svg: Path, kind: str) -> set[str]:
    """The <title> of every group of class `kind` (node, cluster, edge) in a Graphviz SVG."""
    root = ET.parse(svg).getroot()
    return {
        "".join(group.findtext(f"{SVG}title") or "")
        for group in root.iter(f"{SVG}g")
        if group.get("class") == kind
    }


def _closure(edges: list[tuple[str, str]]) -> set[tuple[str, str]]:
    reach = set(edges)
    while True:
        more = {(a, d) for a, b in reach for c, d in reach if b == c} - reach
        if not more:
            return reach
        reach |= more


@pytest.mark.parametrize("stack", STACKS)
def test_the_graph_holds_every_resource_and_its_components(
    synthesized: Synth, stack: str, tmp_path: Path
) -> None:
    write_synthesis(synthesized(stack), tmp_path / stack)
    resources = load_json(tmp_path / stack / "resources.json")
    urns = {r["urn"] for r in resources}
    svg = tmp_path / stack / "graph.svg"
    assert _titles(svg, "node") == urns
    parents = {r["parent"] for r in resources}
    components = {r["urn"] for r in resources if not r["custom"] and r["type"] != "pulumi:pulumi:Stack"}
    assert components, "the program has components"
    assert _titles(svg, "cluster") == {f"cluster_{urn}" for urn in components & parents}
    # Every edge is a recorded dependency, drawn from the dependency to its dependent.
    needs = {(d, r["urn"]) for r in resources for d in r["dependencies"]}
    edges = {tuple(title.split("->")) for title in _titles(svg, "edge")}
    assert edges
    assert edges <= needs
    dot = (tmp_path / stack / "graph.dot").read_text()
    assert all(f'"{urn}" [' in dot for urn in urns)


def test_reduction_drops_only_edges_implied_by_others() -> None:
    needs = {"a": [], "b": ["a"], "c": ["a", "b", "elsewhere"], "d": ["a", "c"]}
    resources = [
        {"urn": urn, "type": f"t:{urn}", "name": urn, "dependencies": deps} for urn, deps in needs.items()
    ]
    edges = reduced_edges(resources)
    assert edges == [("a", "b"), ("b", "c"), ("c", "d")]
    full = [(d, urn) for urn, deps in needs.items() for d in deps if d != "elsewhere"]
    assert _closure(edges) == _closure(full)


def test_marks_colour_what_a_change_does_and_render() -> None:
    resources = [
        {"urn": "s", "type": "pulumi:pulumi:Stack", "name": "s", "parent": "", "custom": False},
        {"urn": "k", "type": "kubernetes:apps/v1:Deployment", "name": "api", "parent": "s", "custom": True},
    ]
    dot = to_dot(resources, "t", marks={"k": "changed"})
    assert 'label="changed: Deployment\\napi"' in dot
    assert b"changed: Deployment" in render_svg(dot)


def test_a_process_that_drew_a_picture_exits_without_wasmtimes_finalizer_noise() -> None:
    # With Pulumi loaded, as in synth and diff: freed after wasmtime's bindings, the cached
    # Graphviz module printed "Exception ignored in: Managed.__del__" at every exit.
    script = "import pulumi\nfrom infra.ops.synth.svg import render_svg\nrender_svg('digraph { a -> b }')\n"
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, cwd=PROJECT_DIR
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
