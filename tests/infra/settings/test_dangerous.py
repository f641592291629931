"""Settings judged by what they do: every value that would open prod, send a credential elsewhere,
write one in the clear or leave the platform without room to run is refused, naming its key.

The table is the issue's tried values and their neighbours (a careless operator's and an
attacker's): each row is run through the path that would take it (the settings of a real run, the
stack file synth and `pulumi up` read, or the runtime's config under `pulumi up`), and must be
refused with its file and key named. The committed stacks stay valid (tests/infra/settings/test_stack.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.ops.synth.runner import run_mocked
from infra.settings.loader import ConfigError, read_profile, validate_settings
from infra.settings.source import PLAINTEXT_SECRETS_IN_TESTS, namespace_config, read_stack_file
from tests.conftest import DELETE, deployable_profile, provided_secrets, stack_file_values, with_changes
from tests.infra.settings.dangerous_values import DANGEROUS, Dangerous


def _without_nones(changes: dict[str, Any]) -> dict[str, Any]:
    return {key: DELETE if value is None else value for key, value in changes.items()}


def _through_the_settings(case: Dangerous) -> None:
    profile = read_profile(case.stack) if case.committed_profile else deployable_profile(case.stack)
    config = {**stack_file_values(case.stack), "secrets": provided_secrets()}
    validate_settings(
        case.stack,
        with_changes(profile, _without_nones(case.profile)),
        with_changes(config, _without_nones(case.config)),
    )


def _through_the_stack_file(case: Dangerous, directory: Path) -> None:
    assert case.stack_file is not None
    path = directory / f"Pulumi.{case.stack}.yaml"
    committed = (Path(__file__).parents[3] / path.name).read_text()
    # The committed file, with the dangerous entries appended under its `config:` (JSON is YAML).
    extra = "".join(f"  {key}: {json.dumps(value)}\n" for key, value in case.stack_file.items())
    path.write_text(committed.rstrip("\n") + "\n" + extra)
    read_stack_file(path)


def _through_the_runtime(case: Dangerous) -> None:
    assert case.runtime is not None

    def body() -> object:
        try:
            return namespace_config()
        except ConfigError as error:
            return error

    result, _, _ = run_mocked(body, case.stack, dict(case.runtime), secret_keys=[])
    if isinstance(result, ConfigError):
        raise result


def refusal(case: Dangerous, directory: Path) -> str | None:
    """The refusal's text, or None if the value was accepted."""
    try:
        if case.stack_file is not None:
            _through_the_stack_file(case, directory)
        elif case.runtime is not None:
            _through_the_runtime(case)
        else:
            _through_the_settings(case)
    except ConfigError as error:
        return str(error)
    return None


def test_every_dangerous_value_is_refused_naming_its_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(PLAINTEXT_SECRETS_IN_TESTS, raising=False)
    rows = []
    for i, case in enumerate(DANGEROUS):
        directory = tmp_path / str(i)
        directory.mkdir()
        text = refusal(case, directory)
        if text is None:
            verdict = "ACCEPTED"
        elif case.names not in text:
            verdict = f"refused without naming {case.names!r}: {text[-200:]!r}"
        elif case.unsaid is not None and case.unsaid in text:
            verdict = "refused, but the message repeats the credential"
        else:
            verdict = "refused"
        rows.append((case, verdict))
    refused = sum(verdict == "refused" for _, verdict in rows)
    keys = {case.names.rstrip(":").split(": ")[-1].split(" ")[0] for case, _ in rows}
    with capsys.disabled():
        print(f"\ndangerous settings tried: {len(rows)}, refused naming their key: {refused}")
        for case, verdict in rows:
            print(f"  {'ok  ' if verdict == 'refused' else 'FAIL'} [{case.stack}] {case.what}: {verdict}")
    assert len(rows) >= 32
    assert len(keys) >= 15, "the table spans the keys"
    assert refused == len(rows), [f"{case.what}: {verdict}" for case, verdict in rows if verdict != "refused"]


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_the_committed_stacks_pass_every_rule_offline_and_deployable(stack: str) -> None:
    # Synth: the committed files as they are; a real run: the allow-list filled in and the secrets set.
    validate_settings(stack, read_profile(stack), stack_file_values(stack), offline=True)
    config = {**stack_file_values(stack), "secrets": provided_secrets()}
    validate_settings(stack, deployable_profile(stack), config)
    read_stack_file(Path(__file__).parents[3] / f"Pulumi.{stack}.yaml")


def test_what_is_safe_beside_the_dangerous_stays_accepted(tmp_path: Path) -> None:
    # The neighbours of the table's values: the rules refuse the danger, not the setting.
    config = {**stack_file_values("prod"), "secrets": provided_secrets()}
    for changes in (
        {"lockbox": {"endpoint": "API.Cloud.Yandex.net.:443"}},
        {"lockbox": {"auth": "service_account_key_file", "key_file": "/run/secrets/lockbox-key.json"}},
    ):
        validate_settings("prod", deployable_profile("prod"), {**config, **changes})
    validate_settings(
        "prod",
        with_changes(
            deployable_profile("prod"),
            {
                "network.cidr": "192.168.0.0/16",
                "cluster.pod_cidr": "172.16.0.0/16",
                "node_group.min_per_zone": 1,
            },
        ),
        config,
    )
    staging = {**stack_file_values("staging"), "secrets": provided_secrets()}
    validate_settings(
        "staging",
        with_changes(deployable_profile("staging"), {"node_group.min_per_zone": 0}),
        {**staging, "lockbox": {"endpoint": "127.0.0.1:50051", "test_endpoint": True}},
    )
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(
        "config:\n"
        "  yandex:token: {secure: v1:abc}\n"
        "  yandex:serviceAccountKeyFile: /run/secrets/key.json\n"
        "  yandex:endpoint: api.cloud.yandex.net:443\n"
    )
    assert read_stack_file(path).secret_keys == ["yandex:token"]
