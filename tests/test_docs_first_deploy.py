"""The walkthroughs name only what exists.

docs/first-deploy.md takes an operator from an empty cloud to a healthy site, and
docs/runbooks/losing-the-cluster.md from a lost cluster back to one. Every step
must say what to run, what it creates, how long it takes and what to check;
every `samokoder-infra` command and its options, every script and its options,
every make target, every settings key and every stack output a page names must
exist in this checkout, so that the pages cannot drift from the code; the
runbook's rebuild settings must render a recovery from the old archive.
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydantic
import pytest
import yaml

from infra.conventions import Naming
from infra.ops.cli import build_parser
from infra.render.database import manifests
from infra.render.database.plan import backup_plan
from infra.settings.loader import read_profile, validate_settings
from infra.settings.stack import StackSettings
from tests.conftest import PROJECT_DIR, stack_file_values

PAGES = [
    PROJECT_DIR / "docs" / "first-deploy.md",
    PROJECT_DIR / "docs" / "runbooks" / "losing-the-cluster.md",
]
ON_EVERY_PAGE = pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
STEP = re.compile(r"^## Step (\d+): ")
# A value with no keys below it (a string, a number, a list of them).
LEAF = object()
PARTS = ("**Run**", "**Creates**", "**Takes**", "**Check**")


def _steps(page: Path) -> list[tuple[str, str]]:
    steps: list[tuple[str, str]] = []
    for line in page.read_text().splitlines():
        if STEP.match(line):
            steps.append((line, ""))
        elif steps:
            title, body = steps[-1]
            steps[-1] = (title, body + line + "\n")
    return steps


def _commands(page: Path) -> Iterator[list[str]]:
    """The shell lines of the page's fenced code blocks, split as the shell would (comments dropped)."""
    inside = False
    pending = ""
    for line in page.read_text().splitlines():
        if line.startswith("```"):
            inside = not inside
            continue
        if not inside:
            continue
        text = pending + line.strip()
        if text.endswith("\\"):
            pending = text[:-1] + " "
            continue
        pending = ""
        if text and not text.startswith("#"):
            yield shlex.split(text, comments=True)


def _options(words: list[str]) -> list[str]:
    return [w.split("=", 1)[0] for w in words if w.startswith("--")]


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse offers no public accessor for its subparsers
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _models_in(annotation: Any) -> list[Any]:
    """The models (or mappings) a value of this annotation may hold: unions, lists and dicts unwrapped."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
    if origin is list:
        return _models_in(typing.get_args(annotation)[0])
    if origin is dict:
        return [dict]
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return [annotation]
    return []


def settings_key_exists(path: str) -> bool:
    """Whether a dotted settings path (`cluster.api_allowed_cidrs`) names a key of the model."""
    current: list[Any] = [StackSettings]
    for part in path.split("."):
        following: list[Any] = []
        for model in current:
            if model is dict:
                following.append(dict)
            elif model is not LEAF and part in model.model_fields:
                following.extend(_models_in(model.model_fields[part].annotation) or [LEAF])
        if not following:
            return False
        current = following
    return True


def _stack_outputs() -> set[str]:
    program = (PROJECT_DIR / "infra" / "ops" / "program.py").read_text()
    return set(re.findall(r'pulumi\.export\(\s*"([a-z_]+)"', program))


def _make_targets() -> set[str]:
    makefile = (PROJECT_DIR / "Makefile").read_text()
    return set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.MULTILINE))


@ON_EVERY_PAGE
def test_the_page_exists_and_every_step_says_what_it_runs_creates_takes_and_checks(page: Path) -> None:
    steps = _steps(page)
    assert len(steps) >= 8, f"{page.name}: {len(steps)} steps"
    assert [int(STEP.match(title).group(1)) for title, _ in steps] == list(range(1, len(steps) + 1))  # type: ignore[union-attr]
    for title, body in steps:
        missing = [part for part in PARTS if part not in body]
        assert not missing, f"{title}: no {', '.join(missing)}"
        takes = body.split("**Takes**", 1)[1].splitlines()[0]
        assert re.search(r"\d+\s*(s|min|h)\b", takes), f"{title}: **Takes** names no time: {takes!r}"


@ON_EVERY_PAGE
def test_every_samokoder_infra_command_and_option_on_the_page_exists(page: Path) -> None:
    commands = _subcommands(build_parser())
    named = [words for words in _commands(page) if words and words[0] == "samokoder-infra"]
    assert named, "the page runs no samokoder-infra command"
    for words in named:
        assert words[1] in commands, f"no command {words[1]!r}: {' '.join(words)}"
        known = {o for a in commands[words[1]]._actions for o in a.option_strings}
        unknown = [o for o in _options(words[2:]) if o not in known]
        assert not unknown, f"{' '.join(words)}: {words[1]} has no {', '.join(unknown)}"


@ON_EVERY_PAGE
def test_every_script_and_its_options_on_the_page_exist(page: Path) -> None:
    named = [words for words in _commands(page) if words and words[0].startswith("scripts/")]
    assert {w[0] for w in named} >= {"scripts/bootstrap"}
    for words in named:
        script = PROJECT_DIR / words[0]
        assert script.is_file(), f"no {words[0]}"
        usage = subprocess.run(
            [str(script), "--help"], capture_output=True, text=True, check=True, cwd=PROJECT_DIR
        ).stdout
        unknown = [o for o in _options(words[1:]) if not re.search(rf"{re.escape(o)}\b", usage)]
        assert not unknown, f"{' '.join(words)}: its --help names no {', '.join(unknown)}"


@ON_EVERY_PAGE
def test_every_make_target_on_the_page_exists(page: Path) -> None:
    targets = _make_targets()
    for words in _commands(page):
        if words and words[0] == "make":
            wanted = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
            assert set(wanted) <= targets, f"{' '.join(words)}: no target {set(wanted) - targets}"


@ON_EVERY_PAGE
def test_every_settings_key_and_stack_output_on_the_page_exists(page: Path) -> None:
    text = page.read_text()
    config_keys = re.findall(r"samokoder:([a-z_]+(?:\.[a-z_]+)+)", text)
    areas = "|".join(("cluster", "network", "node_group", "workloads", "database", "monitoring"))
    profile_keys = re.findall(rf"`((?:{areas})\.[a-z_.]+)`", text)
    assert config_keys
    assert profile_keys
    unknown = sorted({k for k in [*config_keys, *profile_keys] if not settings_key_exists(k)})
    assert not unknown, f"settings keys the model does not have: {unknown}"
    outputs = _stack_outputs()
    named = {w[3] for w in _commands(page) if w[:3] == ["pulumi", "stack", "output"] and len(w) > 3}
    assert named, "the page reads no stack output"
    assert named <= outputs, f"outputs the program does not export: {named - outputs}"


@pytest.mark.parametrize(
    ("path", "exists"),
    [
        ("cluster.api_allowed_cidrs", True),
        ("identity.domain", True),
        ("release.images.api", True),
        ("cluster.api_allowed_cidr", False),
        ("identity.domain.name", False),
    ],
)
def test_the_key_check_tells_a_key_from_a_typo(path: str, exists: bool) -> None:
    assert settings_key_exists(path) is exists


def test_the_rebuild_settings_the_runbook_shows_make_the_cluster_recover_from_the_old_archive() -> None:
    text = PAGES[1].read_text()
    (shown,) = re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL)
    database = yaml.safe_load(shown)["database"]
    profile = read_profile("prod")
    profile["database"] |= database
    settings = validate_settings("prod", profile, stack_file_values("prod"), offline=True)
    naming = Naming("prod")
    cluster = manifests.cluster(
        naming, "samokoder", settings.database, backup_plan(naming, settings.database), 3
    )
    (origin,) = cluster["spec"]["externalClusters"]
    (archiver,) = cluster["spec"]["plugins"]
    assert origin["plugin"]["parameters"]["serverName"] == "samokoder-db"
    assert archiver["parameters"]["serverName"] == database["server_name"] != "samokoder-db"
