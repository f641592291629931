"""The real programs the tests run; a missing one fails the test, never skips it.

A test that runs one carries ``@pytest.mark.tool``; ``make quick`` leaves
those out, and while it does, starting a real program from any other test
fails that test (tests/conftest.py), so that a missing marker shows.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

TOOLS_DIR = Path(__file__).resolve().parent.parent / ".tools"
TOOLS_BIN = TOOLS_DIR / "bin"
# PostgreSQL's own binaries, not links under the repository: as root the drill
# runs them as the postgres user, who may not reach into the repository at all.
POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")

# Programs found by name rather than by where they live.
_REAL_TOOLS = frozenset(
    {
        "moto_server",
        "kubernetes-validate",
        "check-jsonschema",
        "detect-secrets",
        "detect-secrets-hook",
        "pre-commit",
        "node",
        "npm",
        "faketime",
        "runuser",
        "shellcheck",
        "kubectl",
        "etcd",
        "kube-apiserver",
    }
)


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


def runs_a_real_tool(args: str | bytes | os.PathLike[str] | Sequence[object]) -> bool:
    """Whether a command line, as subprocess.Popen takes it, starts one of the real programs."""
    whole = isinstance(args, str | bytes | os.PathLike)
    first = args if whole else next(iter(args), "")  # type: ignore[arg-type]
    text = os.fsdecode(first) if isinstance(first, str | bytes | os.PathLike) else str(first)
    # A command given as one string (shell=True) starts with its program.
    program = Path(text.split(maxsplit=1)[0] if whole and text.strip() else text)
    if program.name in _REAL_TOOLS or program.name.startswith("barman-cloud"):
        return True
    places = [program, *program.parents]
    if program.is_absolute():
        places += [program.resolve(), *program.resolve().parents]
    return TOOLS_DIR in places or POSTGRES_BIN in places
