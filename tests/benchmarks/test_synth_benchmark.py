"""The synth benchmark's verdict is its exit status: over the target fails `make bench`."""

from __future__ import annotations

import sys

import pytest

from benchmarks import synth_benchmark


@pytest.mark.parametrize(("synth_seconds", "status"), [(1.9, 0), (2.1, 1)])
def test_exit_status_follows_the_target(
    monkeypatch: pytest.MonkeyPatch, synth_seconds: float, status: int
) -> None:
    def measure(command: list[str], runs: int) -> synth_benchmark.Figures:
        # The bare import takes 1 s; synth takes `synth_seconds`: the ratio is synth_seconds.
        seconds = 1.0 if "-c" in command else synth_seconds
        return synth_benchmark.Figures(wall=seconds, cpu=seconds, peak_mib=100.0)

    monkeypatch.setattr(synth_benchmark, "measure", measure)
    monkeypatch.setattr(sys, "argv", ["synth_benchmark.py", "--runs", "1"])
    assert synth_benchmark.main() == status
