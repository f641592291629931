"""The reference pages' generated blocks are what the generator writes from the code now.

A settings key, an alert, a dashboard, a route, a policy, a workflow's secret
or a stack's resource that changes without its page failing here would let
the page drift: regenerate with ``python -m infra.ops.reference``.
"""

from __future__ import annotations

import difflib
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from infra.ops.reference import BLOCKS, pages, regenerate, stale_pages
from infra.ops.reference.markdown import MissingBlock, fill, markers
from infra.ops.reference.sources import Sources
from infra.ops.synth.runner import Synthesis
from tests.conftest import PROJECT_DIR


@pytest.fixture(scope="module")
def sources(synthesized: Callable[[str], Synthesis]) -> Sources:
    """The project's sources, with the session's syntheses (made once for every test that reads them)."""
    return Sources(PROJECT_DIR, synthesize=lambda stack, _: synthesized(stack))


@pytest.mark.parametrize("page", pages())
def test_the_committed_page_is_what_the_generator_writes(page: str, sources: Sources) -> None:
    committed = (PROJECT_DIR / page).read_text()
    wanted = regenerate(page, committed, sources)
    changes = "".join(
        difflib.unified_diff(committed.splitlines(True), wanted.splitlines(True), page, "generated", n=1)
    )
    assert wanted == committed, f"{page} is stale: run .venv/bin/python -m infra.ops.reference\n{changes}"


def test_every_block_has_its_markers_once_and_every_page_is_linked_from_the_readme() -> None:
    readme = (PROJECT_DIR / "README.md").read_text()
    for page in pages():
        text = (PROJECT_DIR / page).read_text()
        for block in (b for b in BLOCKS if b.page == page):
            begin, _ = markers(block.name)
            assert text.count(begin) == 1, (
                f"{page}: the block {block.name!r} is marked {text.count(begin)} times"
            )
        assert f"]({page})" in readme, f"README.md does not link {page}"


def test_fill_replaces_its_block_only_and_refuses_a_page_without_it() -> None:
    (begin_a, end_a), (begin_b, end_b) = markers("a"), markers("b")
    page = f"intro\n{begin_a}\n{end_a}\nmiddle\n{begin_b}\n{end_b}\nend\n"
    filled = fill(fill(page, "a", "| x |\n"), "b", "| y |")
    assert filled.splitlines()[:4] == ["intro", begin_a, "| x |", end_a]
    refilled = fill(filled, "a", "| z |")
    assert "| z |" in refilled
    assert "| x |" not in refilled
    assert "| y |" in refilled
    assert refilled.endswith("end\n")
    with pytest.raises(MissingBlock, match="'c'"):
        fill(page, "c", "anything")


def test_a_hand_edited_table_is_found_stale(sources: Sources, tmp_path: Path) -> None:
    shutil.copytree(PROJECT_DIR / ".github", tmp_path / ".github")
    copy = Sources(tmp_path, synthesize=sources.synthesize)
    for page in pages():
        (tmp_path / page).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / page).write_text(regenerate(page, (PROJECT_DIR / page).read_text(), copy))
    assert stale_pages(copy) == {}
    edited = tmp_path / "docs" / "policies.md"
    edited.write_text(edited.read_text().replace("| mandatory |", "| advisory |", 1))
    assert set(stale_pages(copy)) == {edited}
