"""The rehearsal benchmark runs end to end on the real tools at a small size and prints every phase."""

from __future__ import annotations

import re

import pytest

from benchmarks import rehearsal_drill


@pytest.mark.tool
@pytest.mark.slow
def test_a_small_database_is_filled_backed_up_restored_and_rehearsed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert rehearsal_drill.main(["--gib", "0.02", "--wal-gib", "0.01", "--stack", "staging"]) == 0
    out = capsys.readouterr().out
    figures = dict(re.findall(r"^(\S.*?) {2,}(.*)$", out, re.MULTILINE))
    on_disk = float(figures["database on disk"].split()[0])
    # The fill stops at the first size past its target; an empty database is about 0.007 GiB.
    assert 0.02 <= on_disk < 0.04, out
    assert [name for name in figures if name.startswith("step: ")] == [
        "step: upgrade",
        "step: downgrade",
        "step: upgrade-again",
    ]
    assert figures["verdict"] == "passed"
    # barman-cloud-restore's own CPU, counted once it has exited.
    assert float(figures["download CPU"].split()[0]) > 0, out
    restore = re.fullmatch(r"(\S+) s = (\S+) s/GiB", figures["restore"])
    assert restore, out
    seconds, per_gib = map(float, restore.groups())
    assert per_gib == pytest.approx(seconds / on_disk, rel=0.05)
