"""Synth cost per stack, against a bare import of the SDKs it cannot avoid.

Prints wall and CPU seconds (and peak memory) and the worst CPU ratio
(synth / bare import): a figure to read, not a gate, so it exits 0 whatever
the ratio. Each figure is the median of several fresh processes, so start-up
and imports are counted as an operator pays them: with Python's bytecode
cache written (a warm-up run first), as on an operator's machine, even where
the environment sets PYTHONDONTWRITEBYTECODE. The ratio is taken on CPU time,
which other work on a shared machine disturbs far less than wall time; both
are printed.

    python benchmarks/synth_benchmark.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
BARE_IMPORT = "import pulumi, pulumi_yandex, pulumi_kubernetes, pulumi_docker, pulumi_random"


@dataclass(frozen=True)
class Figures:
    wall: float
    cpu: float
    peak_mib: float


def _environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_once(command: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, cwd=PROJECT_DIR, check=True, capture_output=True, env=_environment())
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(command: list[str], runs: int) -> Figures:
    """Medians of `runs` fresh processes, after one warm-up that writes the bytecode cache."""
    run_once(command)
    walls, cpus = zip(*(run_once(command) for _ in range(runs)), strict=True)
    # ru_maxrss of children is the largest so far (KiB on Linux).
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return Figures(statistics.median(walls), statistics.median(cpus), peak)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per figure (default: 5)")
    args = parser.parse_args()

    print(f"bare import ({args.runs} runs) ...", flush=True)
    bare = measure([sys.executable, "-c", BARE_IMPORT], args.runs)
    print(f"\n{'what':<26}{'wall s':>8}{'ratio':>7}{'cpu s':>8}{'ratio':>7}{'peak MiB':>10}")
    name = "bare import of the SDKs"
    print(f"{name:<26}{bare.wall:>8.2f}{1.0:>7.2f}{bare.cpu:>8.2f}{1.0:>7.2f}{bare.peak_mib:>10.0f}")
    worst = 0.0
    with tempfile.TemporaryDirectory() as out:
        for stack in ("staging", "prod"):
            command = [sys.executable, "-m", "infra.ops.cli", "synth", stack, "--out", f"{out}/{stack}"]
            synth = measure(command, args.runs)
            worst = max(worst, synth.cpu / bare.cpu)
            print(
                f"{'synth ' + stack:<26}{synth.wall:>8.2f}{synth.wall / bare.wall:>7.2f}"
                f"{synth.cpu:>8.2f}{synth.cpu / bare.cpu:>7.2f}{synth.peak_mib:>10.0f}"
            )
    print(f"\nworst CPU ratio (synth / bare import): {worst:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
