"""Backup and restore times of the drill at a size you choose, with each stack's rendered settings.

Prints figures, asserts nothing (the drill's tests assert correctness):
the size the first base backup copied and its time, the point-in-time
restore time (copying that backup back plus replaying the WAL of two more
batches until promotion), and what the object store holds at the end.
The audit's targets are RPO < 6 h and RTO < 2 h; see
docs/runbooks/database-restore.md for what the figures mean at cluster size.

    python benchmarks/backup_drill.py [--rows N] [--stack STACK ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from infra.ops.synth.runner import synthesize  # noqa: E402
from tests.infra.render.database.drill.drill import (  # noqa: E402
    ROW_BYTES,
    rehearse,
    rendered_settings,
    retention_days,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, default=50_000, help="rows per batch (three batches, %(default)s)"
    )
    parser.add_argument("--stack", action="append", help="stack(s) to drill (default: staging prod)")
    args = parser.parse_args()
    mib = 1024 * 1024
    print(f"{'stack':<8} {'backed up':>10} {'backup':>8} {'restore':>8} {'final db':>10} {'stored':>10}")
    for stack in args.stack or ["staging", "prod"]:
        synthesis = synthesize(stack, PROJECT_DIR)
        print(f"{stack}: writing 3 x {args.rows} rows of {ROW_BYTES} B ...", file=sys.stderr, flush=True)
        r = rehearse(rendered_settings(synthesis), args.rows, retention_days(synthesis))
        assert r.found_at_target == r.before_backup | r.before_target, "point-in-time restore lost rows"
        print(
            f"{stack:<8} {r.backed_up_bytes / mib:>8.1f}Mi {r.backup_seconds:>7.1f}s "
            f"{r.restore_seconds:>7.1f}s {r.database_bytes / mib:>8.1f}Mi {r.stored_bytes / mib:>8.1f}Mi"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
