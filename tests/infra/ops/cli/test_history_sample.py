"""The README's offline walk through releases and rollback on docs/samples/history.json.

The sample has the shape `pulumi stack history --json` prints (newest first,
config values as strings); infra/ops/releases/history.py reads it.
"""

from __future__ import annotations

from tests.cli_runner import samokoder_infra
from tests.conftest import PROJECT_DIR

SAMPLE = "docs/samples/history.json"


def test_releases_lists_the_samples_updates_newest_first() -> None:
    result = samokoder_infra(PROJECT_DIR, "releases", "staging", "--history", SAMPLE)
    assert result.returncode == 0, result.stderr
    rows = [line.split()[:4] for line in result.stdout.splitlines()[1:]]
    assert rows == [
        ["7", "2026-11-20T10:03:41Z", "succeeded", "2026.11.20-1"],
        ["5", "2026-11-19T19:03:41Z", "failed", "2026.11.19-2"],
        ["4", "2026-11-19T11:03:41Z", "succeeded", "2026.11.19-1"],
        ["3", "2026-11-18T15:03:41Z", "succeeded", "2026.11.18-1"],
        ["2", "2026-11-12T12:03:41Z", "succeeded", "2026.11.12-1"],
    ]


def test_a_dry_run_rollback_goes_back_past_the_failed_release_and_refuses_a_schema_it_does_not_know() -> None:
    result = samokoder_infra(PROJECT_DIR, "rollback", "staging", "--dry-run", "--history", SAMPLE)
    assert result.returncode == 0, result.stderr
    assert (
        "rollback staging: 2026.11.20-1 (update 7) -> 2026.11.19-1 (update 4); images of: api, worker"
        in result.stdout
    )
    assert "dry run: nothing changed" in result.stdout
    further = samokoder_infra(
        PROJECT_DIR, "rollback", "staging", "--dry-run", "--steps", "2", "--history", SAMPLE
    )
    assert further.returncode == 2
    assert "expects database migration revision 1c7d3e9a2b4f" in further.stderr
