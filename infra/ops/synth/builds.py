"""Two synth builds of the same stacks: at a base commit and at the working tree.

The base's files come out of git (`git archive`, so the repository's
worktrees, index and branches are left alone) into a scratch directory, and
synth runs there as a separate process of this same Python, with the
scratch directory first on the path: the base's own program, settings and
profiles are what run, with this virtualenv's SDKs. The working tree is
synthesized the same way from the project directory. Each side writes with
`synth STACK --out DIR`, so the project's build/ is not touched; the sides run
side by side.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# Branches a default base is the merge base with: local first, then as CI's checkout has it.
MAIN_BRANCHES = ("main", "origin/main")
# synth's exit codes: 0 clean, 1 built with a mandatory policy violation (still a build to compare).
_BUILT = (0, 1)


class BuildError(Exception):
    """The builds cannot be made; the message says why, for an operator."""


@dataclass(frozen=True)
class Base:
    commit: str
    label: str


@dataclass(frozen=True)
class Builds:
    base: Path
    head: Path


def _git(project: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=project, capture_output=True, check=False)
    except FileNotFoundError:
        raise BuildError("git is not on PATH: the base is read from the repository with it") from None


def _commit(project: Path, ref: str) -> str | None:
    found = _git(project, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    return found.stdout.decode().strip() if found.returncode == 0 else None


def resolve_base(project: Path, ref: str | None) -> Base:
    if _git(project, "rev-parse", "--git-dir").returncode != 0:
        raise BuildError(f"{project} is not a git checkout: there is no base to compare with")
    if ref is not None:
        commit = _commit(project, ref)
        if commit is None:
            raise BuildError(f"unknown git ref {ref!r}: give a branch, tag or commit of this repository")
        return Base(commit, f"`{ref}` ({commit[:12]})")
    for branch in MAIN_BRANCHES:
        if _commit(project, branch) is None:
            continue
        merge_base = _git(project, "merge-base", "HEAD", branch)
        if merge_base.returncode == 0:
            commit = merge_base.stdout.decode().strip()
            return Base(commit, f"the merge base with `{branch}` ({commit[:12]})")
    raise BuildError(f"no branch {' or '.join(MAIN_BRANCHES)} shares history with HEAD: give --base GIT_REF")


def export_commit(project: Path, commit: str, into: Path) -> None:
    archive = _git(project, "archive", "--format=tar", commit)
    if archive.returncode != 0:
        raise BuildError(f"git archive {commit[:12]} failed: {archive.stderr.decode().strip()}")
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")


def _synth(checkout: Path, stack: str, out: Path) -> subprocess.Popen[str]:
    # The checkout first on the path: its `infra`, `components` and `stacks`
    # win over the editable install of the project.
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(checkout), os.environ.get("PYTHONPATH")])),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "infra.ops.cli", "synth", stack, "--out", str(out)],
        cwd=checkout,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def build(project: Path, base: Base, stacks: Sequence[str], into: Path) -> Builds:
    """Synthesize `stacks` at `base` and at the working tree: into/base/<stack>, into/head/<stack>."""
    from infra.ops.synth.writer import MARKER  # noqa: PLC0415

    checkout = into / "checkout"
    # A reused --builds DIR: the last run's checkout (another commit's files) and builds (synth's own,
    # by its marker) go first, so a side that fails now leaves nothing of an earlier run to compare.
    shutil.rmtree(checkout, ignore_errors=True)
    export_commit(project, base.commit, checkout)
    builds = Builds(base=into / "base", head=into / "head")
    for root in (builds.base, builds.head):
        for stack in stacks:
            if (root / stack / MARKER).is_file():
                shutil.rmtree(root / stack)
    runs = {
        (side, stack): _synth(tree, stack, root / stack)
        for side, tree, root in (("base", checkout, builds.base), ("working tree", project, builds.head))
        for stack in stacks
    }
    failures = []
    for (side, stack), process in runs.items():
        _, stderr = process.communicate()
        if process.returncode not in _BUILT:
            tail = "\n".join(stderr.strip().splitlines()[-8:])
            failures.append(f"synth {stack} at the {side} failed (exit {process.returncode}):\n{tail}")
    if failures:
        raise BuildError("\n".join(failures))
    return builds
