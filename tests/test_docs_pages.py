"""The README and the reference pages name only what exists.

The README is what a newcomer reads first: at most 300 lines, the two set-up
commands (`make synth`, `make test`, the one `.ci/run` runs), and links to the
rest. On it and on every reference page under docs/ that the README links,
each `samokoder-infra` command and option, make target, repository path,
settings key and link must exist in this checkout, so that no page can name
something the code no longer has. (docs/first-deploy.md has its own, stricter
test: tests/test_docs_first_deploy.py.)
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.ops.cli import build_parser
from tests.conftest import PROJECT_DIR
from tests.test_docs_first_deploy import _make_targets, _subcommands, settings_key_exists

README = PROJECT_DIR / "README.md"
MAX_README_LINES = 300
PAGES = [
    README,
    *(
        PROJECT_DIR / "docs" / name
        for name in (
            "configuration.md",
            "monitoring.md",
            "policies.md",
            "platform.md",
            "operations.md",
            "ci.md",
        )
    ),
]
COMMANDS = ("samokoder-infra", "make")
# A repository path in a code span: under one of the project's top folders, or one of its top files.
PATH = re.compile(
    r"(?:\.github|\.ci|infra|components|docs|scripts|tests|tools|policy|stacks|benchmarks)(?:/[\w.-]+)+/?"
    r"|Makefile|Pulumi\.yaml|constraints\.txt|requirements\.txt|__main__\.py"
)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
SETTINGS_AREAS = (
    "identity|release|network|cluster|node_group|replicas|workloads|database|slo|thresholds"
    "|alerting|monitoring|logs|secrets_policy|canary|lockbox|rotation|restore|cut_over"
)


def _spans(text: str) -> list[str]:
    return re.findall(r"`([^`\n]+)`", text)


def _code_lines(text: str) -> Iterator[str]:
    """The lines of fenced blocks, and of indented ones (four spaces after a blank line or another)."""
    fenced, indented, previous_blank = False, False, True
    for line in text.splitlines():
        if line.strip().startswith("```"):
            fenced = not fenced
            continue
        indented = line.startswith("    ") and (previous_blank or indented)
        if fenced or indented:
            yield line.strip()
        previous_blank = not line.strip()


def _commands(text: str) -> Iterator[list[str]]:
    for candidate in [*_code_lines(text), *_spans(text)]:
        words = shlex.split(candidate.split(" | ")[0], comments=True) if candidate else []
        if words and words[0].removeprefix(".venv/bin/") in COMMANDS:
            yield [words[0].removeprefix(".venv/bin/"), *words[1:]]


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    return {_slug(m) for m in re.findall(r"^#+ (.+)$", page.read_text(), flags=re.MULTILINE)}


def test_the_readme_is_short() -> None:
    lines = len(README.read_text().splitlines())
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines; a newcomer's page has at most 300"


def test_the_readme_sets_up_with_two_commands_and_ci_runs_the_test_one() -> None:
    text = README.read_text()
    section = text.split("## On a fresh machine", 1)[1].split("\n## ", 1)[0]
    assert [line for line in _code_lines(section)] == ["make synth", "make test"]
    ci = (PROJECT_DIR / ".ci" / "run").read_text()
    assert [line for line in ci.splitlines() if line.startswith("make ")] == ["make test"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_command_option_and_make_target_on_the_page_exists(page: Path) -> None:
    commands, targets = _subcommands(build_parser()), _make_targets()
    named = list(_commands(page.read_text()))
    for words in named:
        if words[0] == "make":
            wanted = {w for w in words[1:] if not w.startswith("-") and "=" not in w}
            assert wanted <= targets, f"{page.name}: {' '.join(words)}: no target {wanted - targets}"
            continue
        if len(words) < 2 or words[1].startswith("-"):
            continue
        assert words[1] in commands, f"{page.name}: no command {words[1]!r}: {' '.join(words)}"
        known = {o for a in commands[words[1]]._actions for o in a.option_strings}
        unknown = [
            w.split("=", 1)[0] for w in words[2:] if w.startswith("--") and w.split("=")[0] not in known
        ]
        assert not unknown, f"{page.name}: {' '.join(words)}: {words[1]} has no {', '.join(unknown)}"


def test_the_pages_name_commands_at_all() -> None:
    assert any(w[0] == "samokoder-infra" for w in _commands(README.read_text()))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_path_on_the_page_exists(page: Path) -> None:
    named = {m.group(0) for span in _spans(page.read_text()) if (m := PATH.fullmatch(span.strip()))}
    missing = sorted(p for p in named if not (PROJECT_DIR / p).exists())
    assert not missing, f"{page.name} names paths this checkout lacks: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_on_the_page_leads_somewhere(page: Path) -> None:
    prose = re.sub(r"`[^`\n]*`", "", page.read_text())
    for target in LINK.findall(prose):
        if re.match(r"[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        linked = (page.parent / file).resolve() if file else page
        assert linked.exists(), f"{page.name}: link to {target}: no such file"
        if anchor:
            assert anchor in _anchors(linked), f"{page.name}: link to {target}: no such heading"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_settings_key_on_the_page_exists(page: Path) -> None:
    text = page.read_text()
    # A key of the stack file, not a type token (samokoder:network:Network).
    keys = re.findall(r"samokoder:([a-z_]+(?:\.[a-z_]+)*)(?![\w:])", text)
    keys += [span for span in _spans(text) if re.fullmatch(rf"(?:{SETTINGS_AREAS})(?:\.[a-z_]+)+", span)]
    unknown = sorted({k for k in keys if not settings_key_exists(k)})
    assert not unknown, f"{page.name} names settings keys the model does not have: {unknown}"


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("Offline: synth, diff, check", "offline-synth-diff-check"),
        ("`Pulumi.<stack>.yaml`", "pulumistackyaml"),
    ],
)
def test_anchors_are_made_as_github_makes_them(heading: str, slug: str) -> None:
    assert _slug(heading) == slug
