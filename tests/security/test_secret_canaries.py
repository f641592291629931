"""No credential leaves in an offline output or a CI artifact, checked by planting canaries.

A distinctive value goes into every secret input: each provided secret
(``PROVIDED_SECRETS``, encrypted in the stack file as an operator sets it),
the provider's ``yandex:token``, the Lockbox key file's content, the key file
CI names in ``YC_SERVICE_ACCOUNT_KEY_FILE``, ``YC_IAM_TOKEN`` and the Pulumi
config passphrase. Then synth of both stacks, check of both and diff of both
(``--format markdown``, the pull request's comment, with ``--builds``) run as
an operator or CI runs them; every byte they write (every file of the build, the policy
report) and print is searched for every canary, raw, base64, URL-encoded and
hex. Found anywhere is a failure.
"""

from __future__ import annotations

import base64
import binascii
import json
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest
import yaml

from infra.settings.secrets import PROVIDED_SECRETS
from tests.cli_runner import samokoder_infra
from tests.conftest import PROJECT_DIR

STACKS = ("staging", "prod")
# What a project directory needs besides the code (which PYTHONPATH gives).
PROJECT_FILES = ("Pulumi.yaml", "stacks", "policy", "components")


def canary(name: str) -> str:
    # Long and varied enough to pass the strength rules that judge a provided secret's look.
    return f"CANARY{name.upper().replace('_', '')}zq7Xv9Lw2Rt5Ny8Kp3Hd6Fm1Bs4Gj0Ac"


def encodings(value: str) -> dict[str, bytes]:
    raw = value.encode()
    return {
        "raw": raw,
        "base64": base64.b64encode(raw).rstrip(b"="),
        "base64url": base64.urlsafe_b64encode(raw).rstrip(b"="),
        "url-encoded": urllib.parse.quote(value, safe="").encode(),
        "hex": binascii.hexlify(raw),
        "HEX": binascii.hexlify(raw).upper(),
    }


def plant(project: Path, key_file: Path) -> dict[str, str]:
    """Canaries into the stack files and the environment; returns name -> value (env included)."""
    planted: dict[str, str] = {}
    for stack in STACKS:
        path = project / f"Pulumi.{stack}.yaml"
        document = yaml.safe_load(path.read_text())
        config = document.setdefault("config", {})
        secrets = config.setdefault("samokoder:secrets", {})
        for secret in PROVIDED_SECRETS:
            value = planted.setdefault(secret.key, canary(secret.key))
            # As `pulumi config set --secret` leaves it: the stack file holds only the ciphertext.
            secrets[secret.key] = {"secure": f"v1:{value}"}
        config["yandex:token"] = {"secure": f"v1:{planted.setdefault('yandex_token', canary('yandextoken'))}"}
        lockbox = config.setdefault("samokoder:lockbox", {})
        lockbox.update({"auth": "service_account_key_file", "key_file": str(key_file)})
        path.write_text(yaml.safe_dump(document))
    planted["lockbox_key_file"] = canary("lockboxkey")
    key_file.write_text(json.dumps({"id": "ajekey", "private_key": planted["lockbox_key_file"]}))
    for name in (
        "YC_IAM_TOKEN",
        "YC_SERVICE_ACCOUNT_KEY_FILE_CONTENT",
        "PULUMI_CONFIG_PASSPHRASE",
        "YC_TOKEN",
    ):
        planted[name] = canary(name)
    return planted


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], dict[str, str]]:
    root = tmp_path_factory.mktemp("canaries")
    project = root / "project"
    project.mkdir()
    for name in PROJECT_FILES:
        source = PROJECT_DIR / name
        if source.is_dir():
            shutil.copytree(source, project / name)
        elif source.is_file():
            shutil.copy(source, project / name)
    for stack in STACKS:
        shutil.copy(PROJECT_DIR / f"Pulumi.{stack}.yaml", project / f"Pulumi.{stack}.yaml")
    planted = plant(project, root / "lockbox-key.json")
    ci_key = root / "ci-key.json"
    ci_key.write_text(
        json.dumps({"id": "ajeci", "private_key": planted["YC_SERVICE_ACCOUNT_KEY_FILE_CONTENT"]})
    )
    env = {
        "YC_IAM_TOKEN": planted["YC_IAM_TOKEN"],
        "YC_TOKEN": planted["YC_TOKEN"],
        "YC_SERVICE_ACCOUNT_KEY_FILE": str(ci_key),
        "PULUMI_CONFIG_PASSPHRASE": planted["PULUMI_CONFIG_PASSPHRASE"],
    }
    # diff builds its base from a commit: the planted project is one.
    git = ("git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false")
    subprocess.run((*git, "init", "-q", "-b", "main", str(project)), check=True)
    subprocess.run((*git, "-C", str(project), "add", "-A"), check=True)
    subprocess.run((*git, "-C", str(project), "commit", "-q", "-m", "planted"), check=True)
    return project, planted, env


def test_no_canary_leaves_through_synth_check_or_their_output(
    project: tuple[Path, dict[str, str], dict[str, str]],
) -> None:
    directory, planted, env = project
    out = directory.parent / "out"
    captured: dict[str, bytes] = {}
    commands = [
        *(("synth", stack, "--out", str(out / stack)) for stack in STACKS),
        *(("check", stack) for stack in STACKS),
        ("diff", *STACKS, "--base", "HEAD", "--format", "markdown", "--builds", str(out / "diff")),
    ]
    for command in commands:
        # diff reads its base with git; the rest run with the virtualenv alone on PATH.
        git = shutil.which("git")
        assert git, "git is needed by diff"
        path = {"PATH": f"{Path(sys.executable).parent}:{Path(git).parent}"} if command[0] == "diff" else {}
        result = samokoder_infra(directory, *command, env={**env, **path})
        label = " ".join(command[:2])
        # The run must have got as far as writing: a refusal would prove nothing.
        assert result.returncode in {0, 1}, f"{label}: {result.stderr[-2000:]}"
        captured[f"{label} stdout"] = result.stdout.encode()
        captured[f"{label} stderr"] = result.stderr.encode()
    # diff --builds keeps the base commit's files in DIR/checkout: the repository as committed (a
    # stack file's `secure:` ciphertext, here the canary), never uploaded (CI uploads build/STACK and
    # the *-changes.svg pictures, .github/workflows/pr.yml); everything diff built is searched.
    checkout = out / "diff" / "checkout"
    written = [
        p
        for root in (out, directory / "build")
        for p in root.rglob("*")
        if p.is_file() and checkout not in p.parents
    ]
    assert {"resources.json", "outputs.json", "policy-report.json"} <= {p.name for p in written}
    captured.update({str(p): p.read_bytes() for p in written})

    # The search reads what was written: a plain value of the planted stack file is found.
    folder = yaml.safe_load((directory / "Pulumi.prod.yaml").read_text())["config"]["samokoder:identity"][
        "folder_id"
    ]
    assert any(folder.encode() in content for content in captured.values())
    found = [
        f"{name} ({how}) in {where}"
        for name, value in planted.items()
        for how, needle in encodings(value).items()
        for where, content in captured.items()
        if needle in content
    ]
    print(
        f"\nsecret canaries: planted {len(planted)} ({len(encodings('x'))} encodings each) / "
        f"searched {len(captured)} outputs ({sum(map(len, captured.values()))} bytes) / found {len(found)}"
    )
    assert not found, found
