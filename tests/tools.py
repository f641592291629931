"""The real programs the tests run; a missing one fails the test, never skips it."""

from __future__ import annotations

from pathlib import Path

TOOLS_BIN = Path(__file__).resolve().parent.parent / ".tools" / "bin"


def tool(name: str) -> Path:
    path = TOOLS_BIN / name
    if not path.is_file():
        raise AssertionError(
            f"{name} is not installed at {path}: run 'make tools' (make test does it on a fresh machine)"
        )
    return path
