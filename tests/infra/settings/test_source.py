"""Config sources: a stack file read as the CLI passes it, and the runtime's namespace."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pulumi
import pytest

from infra.ops.synth.runner import run_mocked, synthesize
from infra.settings import ConfigError
from infra.settings.source import REDACTED, namespace_config, read_stack_file
from tests.conftest import stack_file_values, write_project


def test_encrypted_values_are_redacted_and_their_keys_marked_secret(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.staging.yaml"
    path.write_text(
        "config:\n"
        "  samokoder:identity: {cloud_id: b1gaaaaaaaaaaaaaaaaa}\n"
        "  samokoder:tokens:\n"
        "    bot: {secure: v1:abc}\n"
        "  yandex:zone: ru-central1-a\n"
    )
    stack_file = read_stack_file(path)
    assert json.loads(stack_file.config["samokoder:tokens"]) == {"bot": REDACTED}
    assert stack_file.secret_keys == ["samokoder:tokens"]
    assert stack_file.config["yandex:zone"] == "ru-central1-a"
    assert "v1:abc" not in json.dumps(stack_file.config)


def test_a_missing_stack_file_names_the_known_stacks(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such stack file; known stacks: prod, staging"):
        read_stack_file(tmp_path / "Pulumi.dev.yaml")


def test_a_stack_file_without_a_config_mapping_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.staging.yaml"
    path.write_text("config: [1, 2]\n")
    with pytest.raises(ConfigError, match="config: must be a mapping of config keys"):
        read_stack_file(path)


def test_the_runtime_namespace_lists_every_key_the_cli_hands_the_program_decoded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    config = {
        "samokoder:release": json.dumps({"id": "r1"}),
        "samokoder:note": "plain text",
        "yandex:zone": "ru-central1-a",
    }
    listed, _, _ = run_mocked(namespace_config, "staging", config)
    # An unknown key is listed too, so that the settings can refuse it.
    assert listed == {"release": {"id": "r1"}, "note": "plain text"}
    # The run's config is not left behind for whatever runs next in the process.
    assert "PULUMI_CONFIG" not in os.environ


def test_a_program_given_its_config_in_process_only_reads_the_stack_file_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    pulumi.runtime.set_all_config(
        {"samokoder:release": json.dumps({"id": "r1"}), "samokoder:note": "not listed without the CLI"}
    )
    assert namespace_config() == {"release": {"id": "r1"}}


# A made-up key written in the clear, which pulumi up must refuse.
CLEAR_KEY = "sk-or-v1-written-in-the-clear"  # pragma: allowlist secret


def _namespace_config_under_pulumi(secret_keys: list[str]) -> dict[str, object] | ConfigError:
    config = {"samokoder:secrets": json.dumps({"openrouter_api_key": CLEAR_KEY})}

    def body() -> dict[str, object] | ConfigError:
        try:
            return namespace_config()
        except ConfigError as error:
            return error

    result, _, _ = run_mocked(body, "staging", config, secret_keys)
    return result


def test_pulumi_up_refuses_secrets_the_stack_file_holds_in_plain_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SAMOKODER_TEST_PLAINTEXT_SECRETS", raising=False)
    refused = _namespace_config_under_pulumi(secret_keys=[])
    assert isinstance(refused, ConfigError)
    assert [str(p) for p in refused.problems] == [
        "Pulumi.staging.yaml: secrets: a secret in plain text (not shown): remove it and set it "
        "encrypted with `pulumi config set --secret --path KEY VALUE`"
    ]
    assert "written-in-the-clear" not in str(refused)
    # The same values, encrypted in the stack file, reach the program.
    accepted = _namespace_config_under_pulumi(secret_keys=["samokoder:secrets"])
    assert not isinstance(accepted, ConfigError)
    assert accepted["secrets"] == {"openrouter_api_key": CLEAR_KEY}


def test_synth_refuses_a_key_the_stack_file_must_not_hold(tmp_path: Path) -> None:
    # Listed as the CLI lists it, so a misplaced key fails instead of being ignored.
    project = write_project(tmp_path, "staging", {**stack_file_values("staging"), "replicas": {"api": 5}})
    with pytest.raises(ConfigError, match="samokoder:replicas: unknown key"):
        synthesize("staging", project)
