"""The synth benchmark prints synth's CPU against a bare import as a figure, and never fails on it."""

from __future__ import annotations

import sys

import pytest

from benchmarks import synth_benchmark


@pytest.mark.parametrize("synth_seconds", [1.9, 3.7])
def test_the_worst_cpu_ratio_is_printed_and_the_exit_status_is_0(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], synth_seconds: float
) -> None:
    def measure(command: list[str], runs: int) -> synth_benchmark.Figures:
        # The bare import takes 1 s; synth takes `synth_seconds` for staging and half a second
        # less for prod: the worst ratio is synth_seconds.
        if "-c" in command:
            return synth_benchmark.Figures(wall=1.0, cpu=1.0, peak_mib=100.0)
        seconds = synth_seconds if "staging" in command else synth_seconds - 0.5
        return synth_benchmark.Figures(wall=seconds, cpu=seconds, peak_mib=100.0)

    monkeypatch.setattr(synth_benchmark, "measure", measure)
    monkeypatch.setattr(sys, "argv", ["synth_benchmark.py", "--runs", "1"])
    assert synth_benchmark.main() == 0
    assert f"worst CPU ratio (synth / bare import): {synth_seconds:.2f}" in capsys.readouterr().out
