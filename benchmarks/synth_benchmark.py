"""Synth wall time per stack, against a bare import of the SDKs it cannot avoid.

Prints figures (and peak memory) and exits 1 when the worst ratio is over the
target (synth / bare import <= 2.0), so that `make bench` fails visibly; no
timed test enforces it. Each figure is the median of several fresh processes,
so start-up and imports are counted as an operator pays them.

    python benchmarks/synth_benchmark.py [--runs N]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
BARE_IMPORT = "import pulumi, pulumi_yandex, pulumi_kubernetes, pulumi_docker, pulumi_random"
TARGET_RATIO = 2.0


def measure(command: list[str], runs: int) -> tuple[float, float]:
    """Median wall seconds and peak resident MiB of `runs` fresh processes."""
    times, peaks = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.perf_counter()
        subprocess.run(command, cwd=PROJECT_DIR, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
        # ru_maxrss of children is the largest so far (KiB on Linux).
        peaks.append(max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024)
    return statistics.median(times), max(peaks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per figure (default: 5)")
    args = parser.parse_args()

    print(f"bare import ({args.runs} runs) ...", flush=True)
    bare, bare_mib = measure([sys.executable, "-c", BARE_IMPORT], args.runs)
    print(f"\n{'what':<28}{'median s':>10}{'ratio':>8}{'peak MiB':>10}")
    print(f"{'bare import of the SDKs':<28}{bare:>10.2f}{1.0:>8.2f}{bare_mib:>10.0f}")
    worst = 0.0
    with tempfile.TemporaryDirectory() as out:
        for stack in ("staging", "prod"):
            command = [sys.executable, "-m", "infra.ops.cli", "synth", stack, "--out", f"{out}/{stack}"]
            seconds, mib = measure(command, args.runs)
            worst = max(worst, seconds / bare)
            print(f"{'synth ' + stack:<28}{seconds:>10.2f}{seconds / bare:>8.2f}{mib:>10.0f}")
    verdict = "within" if worst <= TARGET_RATIO else "OVER"
    print(f"\nworst ratio {worst:.2f}: {verdict} the target of {TARGET_RATIO}")
    return 0 if worst <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
