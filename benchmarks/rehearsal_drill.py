"""Restore and migration-rehearsal times on a database of the size you choose.

Fills a PostgreSQL 15 database archiving to an S3 API (moto) on loopback, with the stack's
rendered barman-cloud settings, to ``--gib`` GiB on disk (pg_database_size) with rows shaped like
the app's biggest tables; takes a base backup with barman-cloud; restores a copy from it
(download, then WAL replay until the copy is promoted and accepts connections); runs the
migration rehearsal's steps on the copy (the tests' ``good`` history: upgrade, downgrade,
upgrade) and judges them with squawk, as tests/infra/ops/releases/test_rehearsal.py does.
Prints each phase's seconds, restore seconds per GiB and the rehearsal's total: figures, not a
gate (the drill's and the rehearsal's tests assert correctness). What the figures mean for
prod: docs/runbooks/database-restore.md.

    python benchmarks/rehearsal_drill.py [--gib 0.05] [--stack prod]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from infra.ops.synth.runner import synthesize  # noqa: E402
from tests.infra.ops.releases.rehearsal_copy import (  # noqa: E402
    Run,
    migrate_to_running,
    rehearse_on_copy,
)
from tests.infra.render.database.drill.drill import Drill, Postgres, drill, rendered_settings  # noqa: E402

GIB = 1024**3
HISTORY = "good"
# The archiver uploads one WAL segment at a time: a GiB of fill is some 70 of them.
ARCHIVE_TIMEOUT_SECONDS = 3600

# The app's tables that grow (AlexeyPevz/Samokoder a349989): file contents
# (core/db/models/file_content.py:14-20) and LLM requests (core/db/models/llm_request.py:12-29),
# here without their foreign keys (their parents are not in the rehearsal's history), beside the
# rehearsal history's own ``projects``.
SCHEMA = """
CREATE TABLE file_contents (id varchar PRIMARY KEY, content varchar NOT NULL);
CREATE TABLE llm_requests (
    id serial PRIMARY KEY, branch_id uuid NOT NULL, project_state_id uuid,
    started_at timestamp NOT NULL DEFAULT now(), agent varchar, provider varchar NOT NULL,
    model varchar NOT NULL, temperature float NOT NULL, messages text NOT NULL,
    prompts text NOT NULL, response text, prompt_tokens integer NOT NULL,
    completion_tokens integer NOT NULL, duration float NOT NULL, status varchar NOT NULL, error text
);
CREATE INDEX ON llm_requests (project_state_id);
"""
# The text is built from a pool of pieces of 1 KiB of md5 hex, so that a row never repeats itself
# (PostgreSQL's pglz leaves it uncompressed, the size on disk is the text's) and gzip compresses
# it about as it does source code and JSON (to roughly half: hex carries 4 bits a character).
POOL_PIECES = 4096
POOL = f"""
CREATE UNLOGGED TABLE fill_pool AS
SELECT i, string_agg(md5(i || ':' || j), '' ORDER BY j) AS piece
FROM generate_series(0, {POOL_PIECES - 1}) i, generate_series(1, 32) j GROUP BY i;
ALTER TABLE fill_pool ADD PRIMARY KEY (i);
"""
# Bytes of text one unit of fill writes: a file of 8 KiB and an LLM request of 7 KiB.
UNIT_BYTES = 15 * 1024
MAX_UNITS = 4096  # about 60 MiB a statement, so that progress shows


def text(seed: str, pieces: int) -> str:
    """SQL for ``pieces`` KiB of text for row ``g``, differently mixed for each ``seed``."""
    # 40503 is odd, so (...) * 40503 % POOL_PIECES walks all of the pool before repeating.
    return (
        f"(SELECT string_agg(piece, '' ORDER BY k) FROM generate_series(0, {pieces - 1}) k "
        f"JOIN fill_pool ON i = ((g::bigint * 8 + k) * 40503 + {seed}) % {POOL_PIECES})"
    )


def fill_units(first: int, units: int) -> str:
    series = f"generate_series({first}, {first + units - 1}) g"
    return f"""
INSERT INTO file_contents (id, content) SELECT md5('file' || g), {text("0", 8)} FROM {series};
INSERT INTO llm_requests (branch_id, project_state_id, provider, model, temperature, messages,
    prompts, response, prompt_tokens, completion_tokens, duration, status)
SELECT md5('branch' || g / 100)::uuid, md5('state' || g / 10)::uuid, 'openai', 'gpt-4o', 0.5,
    {text("1", 4)}, {text("2", 1)}, {text("3", 2)}, 3000, 600, 12.5, 'success' FROM {series};
INSERT INTO projects (name, description)
SELECT 'project ' || g, 'description of project ' || g FROM {series} WHERE g % 100 = 0;
"""


@dataclass
class Filler:
    """Writes the app-shaped rows into ``db``, numbering them on from one call to the next."""

    db: Postgres
    written: int = 0

    def size(self) -> int:
        """The database on disk, less the pool (unlogged: neither in the WAL nor in a base backup)."""
        return int(self.db.sql("SELECT pg_database_size('samokoder') - pg_total_relation_size('fill_pool')"))

    def write(self, units: int) -> None:
        self.db.sql(fill_units(self.written + 1, units))
        self.written += units

    def to_size(self, target: int) -> int:
        """Write rows until the database takes ``target`` bytes on disk; returns its size then."""
        self.db.sql(SCHEMA + POOL)
        while (size := self.size()) < target:
            progress(f"  {size / GIB:.3f} of {target / GIB:.3f} GiB on disk")
            self.write(max(64, min(MAX_UNITS, (target - size) // UNIT_BYTES)))
        return size

    def wal(self, target: int) -> int:
        """Write rows until the server has written ``target`` bytes of WAL; returns the bytes written."""
        start = self.db.sql("SELECT pg_current_wal_lsn()")
        while (written := int(self.db.sql(f"SELECT pg_current_wal_lsn() - '{start}'"))) < target:
            progress(f"  {written / GIB:.3f} of {target / GIB:.3f} GiB of WAL")
            self.write(max(64, min(MAX_UNITS, (target - written) // UNIT_BYTES)))
        return written


def progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def load() -> str:
    return " ".join(f"{figure:.2f}" for figure in os.getloadavg())


@dataclass
class Phases:
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        progress(f"{name} ... (load {load()})")
        started = time.monotonic()
        yield
        self.seconds[name] = time.monotonic() - started
        progress(f"{name}: {self.seconds[name]:.1f} s")


def backup_bytes(d: Drill, backup: str) -> int:
    objects = d.storage.objects(d.settings.bucket)
    return sum(int(item["Size"]) for item in objects if f"/base/{backup}/" in str(item["Key"]))


@dataclass(frozen=True)
class Sizes:
    database: int  # on disk when the base backup ran
    stored: int  # that backup in the bucket, compressed
    wal: int  # WAL written after the backup, which the restore replays


def report(stack: str, sizes: Sizes, phases: Phases, run: Run) -> None:
    gib, wal_gib = sizes.database / GIB, sizes.wal / GIB
    seconds = phases.seconds
    rows = [
        ("database on disk", f"{gib:.3f} GiB ({sizes.database} B, pg_database_size)"),
        ("fill", f"{seconds['fill']:.1f} s"),
        ("archive backlog", f"{seconds['archive backlog']:.1f} s (the fill's WAL reaching the bucket)"),
        ("base backup", f"{seconds['base backup']:.1f} s ({sizes.stored / GIB:.3f} GiB in the bucket)"),
        (
            "WAL after the backup",
            f"{seconds['WAL after the backup']:.1f} s ({wal_gib:.3f} GiB written, archived)",
        ),
        ("restore: download", f"{run.download_seconds:.1f} s = {run.download_seconds / gib:.1f} s/GiB"),
        (
            "download CPU",
            f"{run.download_cpu_seconds:.1f} s = {run.download_cpu_seconds / gib:.1f} s/GiB (user + system)",
        ),
        (
            "restore: recovery",
            f"{run.recovery_seconds:.1f} s (start, replay of {wal_gib:.3f} GiB of WAL, promotion)",
        ),
        ("restore", f"{run.restore_seconds:.1f} s = {run.restore_seconds / gib:.1f} s/GiB"),
        *((f"step: {s.name}", f"{s.seconds:.1f} s ({' '.join(s.args)})") for s in run.verdict.steps),
        ("steps script", f"{run.steps_seconds:.1f} s (Alembic's start-ups included)"),
        ("judge", f"{run.judge_seconds:.1f} s (squawk)"),
        ("rehearsal total", f"{run.total_seconds:.1f} s (restore + steps + judge)"),
        ("verdict", "passed" if run.verdict.passed else "FAILED"),
    ]
    print(f"stack {stack}, {os.cpu_count()} cores, load {load()} (1, 5, 15 min) at the end")
    for name, figure in rows:
        print(f"{name:<22} {figure}")
    if not run.verdict.passed:
        print(run.verdict.report())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=0.05, help="size on disk to fill to, GiB (%(default)s)")
    parser.add_argument(
        "--wal-gib", type=float, default=0.0, help="WAL to write after the base backup, GiB (%(default)s)"
    )
    parser.add_argument("--stack", default="prod", help="whose rendered settings (%(default)s)")
    args = parser.parse_args(argv)
    settings = rendered_settings(synthesize(args.stack, PROJECT_DIR))
    phases = Phases()
    with drill(settings) as d, tempfile.TemporaryDirectory(prefix="rehearsal-drill-") as tmp:
        migrate_to_running(d, Path(tmp))
        filler = Filler(d.source)
        with phases.phase("fill"):
            size = filler.to_size(int(args.gib * GIB))
        with phases.phase("archive backlog"):
            d.switch_and_archive(ARCHIVE_TIMEOUT_SECONDS)
        with phases.phase("base backup"):
            backup = d.base_backup()
        with phases.phase("WAL after the backup"):
            wal = filler.wal(int(args.wal_gib * GIB))
            d.switch_and_archive(ARCHIVE_TIMEOUT_SECONDS)
        progress(f"restoring a copy and rehearsing ... (load {load()})")
        run = rehearse_on_copy(d, backup, HISTORY, Path(tmp))
        report(args.stack, Sizes(size, backup_bytes(d, backup), wal), phases, run)
    return 0 if run.verdict.passed else 1


if __name__ == "__main__":
    # Stopped with a signal, the drill still stops its servers and removes their directory.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    raise SystemExit(main())
