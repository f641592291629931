"""The kubeconfig's credential plugin against a fake IAM on loopback: one test per way to authenticate.

The plugin is run as the kubeconfig names it (command and args, found on
PATH with the virtualenv's bin first, as the workflows and an activated
virtualenv have it), in a process of its own: what a Kubernetes client does.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.render.kubeconfig import render_kubeconfig
from tests.conftest import PROJECT_DIR
from tests.infra.providers.yandex.fake_cloud import (
    ACCOUNT,
    CloudState,
    Served,
    authorized_key_file,
    serving_cloud,
    serving_metadata,
)

VENV_BIN = PROJECT_DIR / ".venv" / "bin"
CA = "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n"


@pytest.fixture
def iam(tmp_path: Path) -> Iterator[tuple[CloudState, Served[CloudState]]]:
    state = CloudState()

    with serving_cloud(tmp_path, state, ()) as served:
        yield state, served


def exec_entry() -> dict[str, Any]:
    config = yaml.safe_load(render_kubeconfig("c1", "https://198.51.100.7", CA))
    (user,) = config["users"]
    entry: dict[str, Any] = user["user"]["exec"]
    return entry


def plugin(served: Served[CloudState], env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    entry = exec_entry()
    base = {k: v for k, v in os.environ.items() if not k.startswith("YC_")}
    return subprocess.run(
        [
            entry["command"],
            *entry["args"],
            "--endpoint",
            served.endpoint,
            "--root-certificates",
            str(served.roots),
            *extra,
        ],
        env={**base, "PATH": f"{VENV_BIN}:{base.get('PATH', '')}", **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def credential(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    loaded: dict[str, Any] = json.loads(result.stdout)
    assert loaded["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert loaded["kind"] == "ExecCredential"
    return loaded


def test_the_kubeconfig_runs_the_projects_own_command() -> None:
    entry = exec_entry()
    assert entry == {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": "samokoder-infra",
        "args": ["kube-credential"],
        "interactiveMode": "Never",
        "provideClusterInfo": False,
    }
    assert (VENV_BIN / "samokoder-infra").is_file()


def test_a_service_account_key_is_exchanged_for_a_token_with_its_expiry(
    iam: tuple[CloudState, Served[CloudState]], tmp_path: Path
) -> None:
    state, served = iam
    path = authorized_key_file(tmp_path, state)
    result = credential(plugin(served, {"YC_SERVICE_ACCOUNT_KEY_FILE": str(path)}))
    token = result["status"]["token"]
    assert token in state.tokens  # issued by the IAM API for the key's account
    expires = dt.datetime.strptime(result["status"]["expirationTimestamp"], "%Y-%m-%dT%H:%M:%SZ")
    assert (
        dt.timedelta(hours=11)
        < expires - dt.datetime.now(dt.UTC).replace(tzinfo=None)
        <= dt.timedelta(hours=12)
    )
    # A key the IAM API does not know: no credential, the reason on stderr.
    state.account_keys[ACCOUNT] = ("ajekeyother000000001", state.account_keys[ACCOUNT][1])
    refused = plugin(served, {"YC_SERVICE_ACCOUNT_KEY_FILE": str(path)})
    assert (refused.returncode, refused.stdout) == (1, "")
    assert (
        "the IAM API refused a token for auth 'service_account_key_file': UNAUTHENTICATED" in refused.stderr
    )
    broken = plugin(served, {"YC_SERVICE_ACCOUNT_KEY_FILE": str(tmp_path / "missing.json")})
    assert (broken.returncode, broken.stdout) == (1, "")
    assert "missing.json: cannot read an authorized key" in broken.stderr


def test_a_given_token_is_passed_on_and_the_key_file_wins_over_it(
    iam: tuple[CloudState, Served[CloudState]], tmp_path: Path
) -> None:
    state, served = iam
    result = credential(plugin(served, {"YC_IAM_TOKEN": "t1.operator"}))
    assert result["status"] == {"token": "t1.operator"}  # expiry unknown: the client retries on 401
    path = authorized_key_file(tmp_path, state)
    both = credential(
        plugin(served, {"YC_IAM_TOKEN": "t1.operator", "YC_SERVICE_ACCOUNT_KEY_FILE": str(path)})
    )
    assert both["status"]["token"] in state.tokens
    assert plugin(served, {"YC_IAM_TOKEN": "t1.operator"}, "--print-token").stdout == "t1.operator\n"


def test_without_a_key_or_a_token_the_vms_metadata_service_answers(
    iam: tuple[CloudState, Served[CloudState]],
) -> None:
    _, served = iam
    with serving_metadata("t1.vm-account") as address:
        result = credential(plugin(served, {"YC_METADATA_ADDR": address}))
    assert result["status"] == {"token": "t1.vm-account"}
    # No metadata service there (not a VM): a failure with the reason, not an empty token.
    with serving_metadata("t1.vm-account") as address:
        pass
    failed = plugin(served, {"YC_METADATA_ADDR": address})
    assert (failed.returncode, failed.stdout) == (1, "")
    assert "no IAM token from auth 'metadata': ConnectionError" in failed.stderr
