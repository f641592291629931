"""`samokoder-infra diff` on a copy of this repository: a committed change, an unchanged tree, bad input.

The copy is a clone of the repository this test file is in (CI's checkout or
a developer's), so the program at its HEAD is what is synthesized; the diff
command itself is this checkout's code (first on the path, as in
tests/cli_runner.py). Each diff synthesizes twice: these tests are few on purpose.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra.ops.cli.diff import canary_sections
from infra.ops.synth.diff import StackDiff, diff_builds
from infra.ops.synth.diff_report import markdown
from infra.render.workloads import canary
from infra.settings.loader import read_yaml_file, validate_settings
from infra.settings.source import stack_file_values
from infra.settings.stack import StackSettings
from tests.conftest import PROJECT_DIR

# End to end (the CLI in processes, or a loopback API): out of `make quick`, in `make test`.
pytestmark = pytest.mark.slow

GIT_ENV = {
    "GIT_AUTHOR_NAME": "diff test",
    "GIT_AUTHOR_EMAIL": "diff-test@example.invalid",
    "GIT_COMMITTER_NAME": "diff test",
    "GIT_COMMITTER_EMAIL": "diff-test@example.invalid",
}


def samokoder_infra(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """As tests/cli_runner.py runs it (the virtualenv on PATH, no pulumi CLI), with git's directory too."""
    path = os.pathsep.join([str(Path(sys.executable).parent), str(Path(shutil.which("git") or "git").parent)])
    return subprocess.run(
        [sys.executable, "-m", "infra.ops.cli", *args],
        cwd=cwd,
        env={**os.environ, "PATH": path, "PYTHONPATH": str(PROJECT_DIR)},
        capture_output=True,
        text=True,
        check=False,
    )


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args], cwd=repo, env={**os.environ, **GIT_ENV}, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path.name} no longer holds {old!r}: pick another change for this test"
    path.write_text(text.replace(old, new, 1))


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A clone with one commit on a scratch branch: an alert threshold and the worker's replicas."""
    clone = tmp_path_factory.mktemp("repo") / "samokoder-infra"
    git(PROJECT_DIR, "clone", "--quiet", "--no-hardlinks", str(PROJECT_DIR), str(clone))
    before = git(clone, "rev-parse", "HEAD")
    git(clone, "switch", "--quiet", "-c", "scratch")
    profile = clone / "stacks" / "staging.yaml"
    _edit(profile, "rate_limit_hits_percent: 5 ", "rate_limit_hits_percent: 6 ")
    _edit(profile, "worker: 1,", "worker: 2,")
    git(clone, "commit", "--quiet", "-am", "staging: rate-limit alert at 6 %, two workers")
    return clone, before


def test_a_threshold_and_a_replica_change_change_the_rule_and_the_deployment_only(
    repo: tuple[Path, str], tmp_path: Path
) -> None:
    clone, before = repo
    builds = tmp_path / "builds"
    result = samokoder_infra(clone, "diff", "staging", "--base", before, "--builds", str(builds))
    assert result.returncode == 1, result.stderr
    changed = re.findall(r"^  (\S+) +(\w+) +(\S+)  (\S+)$", result.stdout, re.MULTILINE)
    assert sorted(changed) == [
        ("~", "change", "kubernetes:apps/v1:Deployment", "workloads-worker-deployment"),
        ("~", "change", "kubernetes:monitoring.coreos.com/v1:PrometheusRule", "monitoring-rules-api"),
    ], result.stdout
    assert "        spec.replicas: 1 -> 2\n" in result.stdout
    assert re.search(
        r"^        spec\.groups\[\d+\]\.rules\[\d+\]\.expr: .*0\.05.* -> .*0\.06", result.stdout, re.M
    )
    assert "2 to change, 0 to add, 0 to remove" in result.stdout
    # The same two builds, seen as a PR comment, as a monitoring summary and as a picture.
    diff = diff_builds("staging", builds / "base" / "staging", builds / "head" / "staging")
    comment = markdown([diff], f"`{before[:12]}`")
    assert (
        "| change | `workloads-worker-deployment` | `kubernetes:apps/v1:Deployment` | `spec.replicas`"
        in comment
    )
    summary = samokoder_infra(clone, "monitoring-diff", str(builds / "base"), str(builds / "head"))
    assert summary.returncode == 0, summary.stderr
    assert "- changed alert `HighRateLimitHits` (warning): expr" in summary.stdout, summary.stdout
    picture = (builds / "staging-changes.svg").read_text()
    assert "changed: Deployment" in picture
    assert "changed: PrometheusRule" in picture


def test_an_unchanged_tree_exits_0(repo: tuple[Path, str]) -> None:
    clone, _ = repo
    result = samokoder_infra(clone, "diff", "staging", "--base", "HEAD", "--format", "markdown")
    assert result.returncode == 0, result.stderr
    assert "No changes (" in result.stdout
    # Merged, it is still a release of the app through the canary: the comment says how it is judged.
    assert "##### Canary: what the release is judged on" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["diff", "nosuchstack"], "diff: unknown stack nosuchstack; known stacks: prod, staging"),
        (
            ["diff", "staging", "--base", "no-such-ref-anywhere"],
            "diff: unknown git ref 'no-such-ref-anywhere'",
        ),
        (["monitoring-diff", "--base-ref", "no-such-ref-anywhere"], "unknown git ref 'no-such-ref-anywhere'"),
    ],
)
def test_bad_input_exits_2_with_a_message(args: list[str], message: str) -> None:
    result = samokoder_infra(PROJECT_DIR, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_outside_a_git_checkout_exits_2(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    result = samokoder_infra(tmp_path, "diff", "staging")
    assert result.returncode == 2
    assert "is not a git checkout" in result.stderr


# --- what a release's canary is judged on, in the PR comment -----------------------------


def judged_on(settings: StackSettings) -> list[str]:
    return canary.judged_on(settings.canary, settings.slo)


def settings_in(clone: Path, stack: str) -> StackSettings:
    """The stack's settings as the clone's own files hold them."""
    profile = read_yaml_file(clone / "stacks" / f"{stack}.yaml", f"stacks/{stack}.yaml", stack, "profile")
    return validate_settings(stack, profile, stack_file_values(clone / f"Pulumi.{stack}.yaml"), offline=True)


@pytest.fixture(scope="module")
def release_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A clone with two commits: prod's canary windows longer, then staging's next release (its id)."""
    clone = tmp_path_factory.mktemp("release-repo") / "samokoder-infra"
    git(PROJECT_DIR, "clone", "--quiet", "--no-hardlinks", str(PROJECT_DIR), str(clone))
    before = git(clone, "rev-parse", "HEAD")
    git(clone, "switch", "--quiet", "-c", "scratch")
    minutes = settings_in(clone, "prod").canary.analysis_minutes
    _edit(clone / "stacks" / "prod.yaml", f"analysis_minutes: {minutes}", f"analysis_minutes: {minutes + 5}")
    git(clone, "commit", "--quiet", "-am", "prod: longer canary windows")
    windows = git(clone, "rev-parse", "HEAD")
    release = settings_in(clone, "staging").release.id
    _edit(clone / "Pulumi.staging.yaml", f'id: "{release}"', f'id: "{release}-next"')
    git(clone, "commit", "--quiet", "-am", "staging: the next release")
    return clone, before, windows


def test_every_stack_gets_what_its_canary_is_judged_on_since_every_merge_releases(
    release_repo: tuple[Path, str, str], repo: tuple[Path, str]
) -> None:
    clone, _, _ = release_repo
    staging, prod = settings_in(clone, "staging"), settings_in(clone, "prod")
    assert canary_sections(clone, ["staging", "prod"]) == {
        "staging": judged_on(staging),
        "prod": judged_on(prod),
    }
    # The change's own settings: prod's longer window, not main's.
    assert prod.canary.analysis_minutes != settings_in(PROJECT_DIR, "prod").canary.analysis_minutes
    assert f"one step every {prod.canary.analysis_minutes} min" in "\n".join(judged_on(prod))
    # A change of an alert threshold is merged, built and released through the canary too.
    other, _ = repo
    assert set(canary_sections(other, ["staging", "prod"])) == {"staging", "prod"}


def test_the_markdown_puts_the_canary_section_under_the_stack_it_is_given_for() -> None:
    diffs = [StackDiff("staging", (), (), 110), StackDiff("prod", (), (), 120)]
    lines = judged_on(settings_in(PROJECT_DIR, "prod"))
    comment = markdown(diffs, "`main`", {"prod": lines})
    staging, prod = comment.split("#### `prod`")
    assert "Canary" not in staging
    assert "##### Canary: what the release is judged on\n\n" + "\n".join(lines) in prod
    assert "Canary" not in markdown(diffs, "`main`", {})
    assert markdown(diffs, "`main`") == markdown(diffs, "`main`", {})


def test_the_pr_comment_of_a_release_says_what_its_canary_is_judged_on(
    release_repo: tuple[Path, str, str],
) -> None:
    clone, _, windows = release_repo
    result = samokoder_infra(clone, "diff", "staging", "--base", windows, "--format", "markdown")
    assert result.returncode == 1, result.stderr
    staging = settings_in(clone, "staging")
    profile = staging.canary
    section = result.stdout.split("##### Canary: what the release is judged on\n\n", 1)[1]
    # The stack's own numbers, from its settings.
    assert " → ".join(f"{w} %" for w in profile.weights) in section
    assert f"one step every {profile.analysis_minutes} min" in section
    assert f"at least {profile.min_requests} requests" in section
    assert f"5xx answers at most {profile.max_error_percent:g} %" in section
    assert f"at most {staging.slo.latency_threshold_seconds:g} s" in section
    assert f"at {profile.max_failed_checks} failed checks" in section
    assert f"within {profile.verdict_minutes()} min" in section
