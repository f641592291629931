"""The real programs the tests run; a missing one fails the test, never skips it."""

from __future__ import annotations

from pathlib import Path

TOOLS_DIR = Path(__file__).resolve().parent.parent / ".tools"
TOOLS_BIN = TOOLS_DIR / "bin"
# PostgreSQL's own binaries, not links under the repository: as root the drill
# runs them as the postgres user, who may not reach into the repository at all.
POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")


def tool(name: str) -> Path:
    path = TOOLS_BIN / name
    if not path.is_file():
        raise AssertionError(
            f"{name} is not installed at {path}: run 'make tools' (make test does it on a fresh machine)"
        )
    return path


def postgres_tool(name: str) -> Path:
    path = POSTGRES_BIN / name
    if not path.is_file():
        raise AssertionError(f"{name} is not installed at {path}: run 'make tools' (postgresql-15)")
    return path
