"""The migration rehearsal on a local copy, as the tests and benchmarks/rehearsal_drill.py run it.

A copy restored by barman-cloud into PostgreSQL 15 logging its DDL as CloudNativePG's instances
do (csvlog), the steps script the release's image runs, with one of our small Alembic histories
(``histories/``), and the judge with squawk. Each phase is timed.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from infra.ops.releases import rehearsal
from infra.render.database import rehearse_steps
from tests.infra.render.database.drill.drill import Drill, Postgres

HISTORIES = Path(__file__).parent / "histories"
VENV_BIN = Path(sys.executable).parent
SQUAWK = VENV_BIN / "squawk"
ALEMBIC = VENV_BIN / "alembic"
# The running release's revision in every history: a ``projects`` table.
RUNNING = "a1"


def alembic_ini(tmp: Path, history: str) -> Path:
    ini = tmp / f"{history}.ini"
    template = (HISTORIES / "alembic.ini.template").read_text()
    ini.write_text(template.format(here=HISTORIES, history=history))
    return ini


def app_env(db: Postgres, ini: Path) -> dict[str, str]:
    """What the Job gives the steps script: the app Secret's keys, the copy's address, Alembic."""
    for program in (ALEMBIC, SQUAWK):
        if not program.is_file():
            raise AssertionError(f"{program} is missing: make test installs the dev dependencies")
    return {
        **os.environ,
        "DATABASE_USER": "postgres",
        "DATABASE_PASSWORD": "trust: any",  # pragma: allowlist secret
        "DATABASE_NAME": "samokoder",
        "REHEARSAL_HOST": str(db.socket_dir),
        "REHEARSAL_PORT": str(db.port),
        "ALEMBIC": str(ALEMBIC),
        "ALEMBIC_CONFIG": str(ini),
    }


def migrate_to_running(d: Drill, tmp: Path) -> None:
    """The source database at the running release's revision."""
    env = app_env(d.source, alembic_ini(tmp, "good"))
    subprocess.run(
        [str(ALEMBIC), "-c", env["ALEMBIC_CONFIG"], "upgrade", RUNNING],
        env={**env, "SAMOKODER_DATABASE_URL": rehearse_steps.database_url(env)},
        check=True,
        capture_output=True,
    )


def copy_logging(log_dir: Path) -> dict[str, str]:
    """The copy's logging as the rehearsal Cluster sets it (infra/render/database/rehearsal.py)."""
    return {
        "logging_collector": "on",
        "log_destination": "csvlog",
        "log_directory": f"'{log_dir}'",
        "log_filename": "'server.log'",
        "log_statement": "ddl",
        "log_timezone": "UTC",
    }


@dataclass(frozen=True)
class Run:
    """One rehearsal's verdict and the seconds of each phase."""

    verdict: rehearsal.Verdict
    # Restoring the copy: barman-cloud-restore copying the base backup back, then the server
    # replaying the archived WAL until it is promoted and accepts connections.
    download_seconds: float
    recovery_seconds: float
    # CPU (user and system) barman-cloud-restore took: what the wall time is on an idle machine
    # if the download is bound by its CPU (decompression), whatever else the machine runs.
    download_cpu_seconds: float
    # The steps script from start to exit (Alembic's start-ups included), then the judge.
    steps_seconds: float
    judge_seconds: float

    @property
    def restore_seconds(self) -> float:
        return self.download_seconds + self.recovery_seconds

    @property
    def total_seconds(self) -> float:
        return self.restore_seconds + self.steps_seconds + self.judge_seconds


def _children_cpu() -> float:
    """CPU seconds of the finished child processes (and theirs): barman-cloud's, not moto's."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def rehearse_on_copy(d: Drill, backup: str, history: str, tmp: Path) -> Run:
    """Restore a copy from ``backup``, run ``history``'s steps on it and judge them."""
    log_dir = d.root / f"{history}-log"
    started, cpu = time.monotonic(), _children_cpu()
    copy = d.download(f"copy-{history}", backup)
    downloaded, download_cpu = time.monotonic(), _children_cpu() - cpu
    d.recover(copy, None, copy_logging(log_dir))
    recovered = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-c", Path(rehearse_steps.__file__).read_text()],
        env=app_env(copy, alembic_ini(tmp, history)),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    stepped = time.monotonic()
    copy.stop()  # flushes the collector's file
    judging = time.monotonic()
    verdict = rehearsal.judge(run.stdout, (log_dir / "server.csv").read_text(), squawk=str(SQUAWK))
    return Run(
        verdict=verdict,
        download_seconds=downloaded - started,
        recovery_seconds=recovered - downloaded,
        download_cpu_seconds=download_cpu,
        steps_seconds=stepped - recovered,
        judge_seconds=time.monotonic() - judging,
    )
