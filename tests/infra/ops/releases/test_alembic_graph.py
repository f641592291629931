"""The Alembic revision graph: heads, ancestry, order, the heads a name stands for, and refused histories."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import pytest

from infra.ops.releases.alembic_graph import MAX_HEADS, Graph, MigrationsError, read_script


def write(directory: Path, parents: dict[str, str | tuple[str, ...] | None]) -> Path:
    """One script per revision, in a file named after it: ``revision`` and ``down_revision`` only."""
    directory.mkdir(parents=True, exist_ok=True)
    for revision, down in parents.items():
        (directory / f"{revision}.py").write_text(f"revision = {revision!r}\ndown_revision = {down!r}\n")
    return directory


def joined(heads: Collection[str]) -> str:
    """A naming that is not the release's: the sorted heads joined by '+' (one head is itself)."""
    return "+".join(sorted(heads))


# base -> a1 -> a2 -> merge <- b1 <- base; c1 is a second root.
HISTORY: dict[str, str | tuple[str, ...] | None] = {
    "base": None,
    "a1": "base",
    "a2": "a1",
    "b1": ("base",),
    "merge": ("a2", "b1"),
    "c1": None,
}


def test_heads_ancestry_and_order(tmp_path: Path) -> None:
    graph = Graph.read(write(tmp_path / "v", HISTORY))
    assert graph.heads == ["c1", "merge"]
    assert graph.lineage["merge"] == {"merge", "a2", "a1", "b1", "base"}
    assert graph.lineage["c1"] == frozenset({"c1"})
    # Parents first; among the scripts ready to run, the first file first.
    assert [s.revision for s in graph.ordered] == ["base", "a1", "a2", "b1", "c1", "merge"]
    assert [s.revision for s in graph.after(["a2"])] == ["b1", "c1", "merge"]
    assert graph.after(graph.heads) == []


def test_the_heads_a_name_stands_for(tmp_path: Path) -> None:
    graph = Graph.read(write(tmp_path / "v", HISTORY))
    assert graph.heads_named("a1", joined) == frozenset({"a1"})
    assert graph.heads_named("a2+b1+c1", joined) == frozenset({"a2", "b1", "c1"})
    # Related revisions are never heads together, nor are unknown ones.
    assert graph.heads_named("a1+a2", joined) is None
    assert graph.heads_named("zz", joined) is None
    # A revision that its naming does not leave as it is is found as a set of one.
    assert graph.heads_named("<c1>", lambda heads: f"<{joined(heads)}>") == frozenset({"c1"})


def test_the_search_stops_at_the_most_heads(tmp_path: Path) -> None:
    roots = [f"r{index}" for index in range(MAX_HEADS + 1)]
    graph = Graph.read(write(tmp_path / "v", dict.fromkeys(roots)))
    assert graph.heads_named(joined(roots[:MAX_HEADS]), joined) == frozenset(roots[:MAX_HEADS])
    assert graph.heads_named(joined(roots), joined) is None
    # Every antichain once: here every subset of 1 to MAX_HEADS roots.
    found = list(graph.antichains())
    assert len(found) == len(set(found)) == 2 ** len(roots) - 2


def test_files_that_are_not_scripts_are_skipped(tmp_path: Path) -> None:
    versions = write(tmp_path / "v", {"base": None})
    (versions / "__init__.py").write_text("")
    (versions / "helpers.py").write_text("def revision_of(x):\n    return x\n")
    assert read_script(versions / "helpers.py") is None
    assert [s.path.name for s in Graph.read(versions).ordered] == ["base.py"]


def test_histories_alembic_would_refuse_are_errors_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(MigrationsError, match="no Alembic revision scripts"):
        Graph.read(write(tmp_path / "empty", {}))
    twice = write(tmp_path / "twice", {"base": None})
    (twice / "copy.py").write_text('revision = "base"\n')
    with pytest.raises(MigrationsError, match=r"copy\.py: revision base is also .*base\.py"):
        Graph.read(twice)
    with pytest.raises(MigrationsError, match=r"a1\.py: down_revision gone is not in"):
        Graph.read(write(tmp_path / "orphan", {"base": None, "a1": "gone"}))
    with pytest.raises(MigrationsError, match="form a cycle"):
        Graph.read(write(tmp_path / "cycle", {"base": None, "a1": ("base", "a2"), "a2": "a1"}))
    broken = write(tmp_path / "broken", {"base": None})
    (broken / "bad.py").write_text("revision = (\n")
    with pytest.raises(MigrationsError, match=r"bad\.py: not readable as Python \(line 1"):
        Graph.read(broken)
    (broken / "bad.py").write_text("revision = None\n")
    with pytest.raises(MigrationsError, match=r"bad\.py: revision is empty"):
        Graph.read(broken)
    (broken / "bad.py").write_text("revision = 1\n")
    with pytest.raises(MigrationsError, match=r"bad\.py: a revision that is not a string"):
        Graph.read(broken)
