"""`app-commit` prints the contract's app repository and commit, as the build reads them."""

from __future__ import annotations

import re

from infra.app_contract import APP_COMMIT, APP_REPOSITORY
from tests.cli_runner import samokoder_infra
from tests.conftest import PROJECT_DIR


def test_it_prints_the_contracts_repository_and_commit_as_github_outputs() -> None:
    result = samokoder_infra(PROJECT_DIR, "app-commit")
    assert result.returncode == 0, result.stderr
    outputs = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert outputs == {"repository": APP_REPOSITORY, "commit": APP_COMMIT}


def test_the_contract_names_a_commit_not_a_branch() -> None:
    # actions/checkout takes a branch name as happily as a commit: only a full id pins the build.
    assert re.fullmatch(r"[0-9a-f]{40}", APP_COMMIT)
    assert re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", APP_REPOSITORY)
