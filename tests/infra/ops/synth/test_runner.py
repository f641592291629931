"""Synth under the mock runtime: what it records, and that bad config registers nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pulumi
import pytest

from infra.ops.synth.mocks import RecordingMonitor, SynthMocks
from infra.ops.synth.runner import STACK_TYPE, Synthesis, run_mocked, synthesize
from infra.settings import ConfigError
from infra.settings.source import PLAINTEXT_SECRETS_IN_TESTS, REDACTED
from tests.conftest import (
    PROJECT_DIR,
    STACKS,
    provided_secrets,
    stack_file_values,
    with_changes,
    write_project,
)

Synth = Callable[[str], Synthesis]


def test_invalid_config_registers_nothing(tmp_path: Path) -> None:
    config = with_changes(stack_file_values("prod"), {"release.images.api": "latest"})
    monitor = RecordingMonitor(SynthMocks())
    with pytest.raises(ConfigError, match=r"samokoder:release\.images\.api: must be an image digest"):
        synthesize("prod", write_project(tmp_path, "prod", config), monitor=monitor)
    assert [r.type for r in monitor.recorded] == [STACK_TYPE]


@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_is_a_child_of_a_component_or_the_stack(synthesized: Synth, stack: str) -> None:
    synthesis = synthesized(stack)
    urns = {r.urn for r in synthesis.resources}
    for resource in synthesis.deployed():
        assert resource.parent in urns, resource.urn


@pytest.mark.parametrize("stack", STACKS)
def test_every_cloud_resource_uses_the_stacks_yandex_provider(synthesized: Synth, stack: str) -> None:
    synthesis = synthesized(stack)
    (provider,) = synthesis.of_type("pulumi:providers:yandex")
    assert provider.inputs["folderId"] == stack_file_values(stack)["identity"]["folder_id"]
    for resource in synthesis.deployed():
        if resource.type.startswith("yandex:"):
            assert resource.provider == provider.urn, resource.urn


# A record set's `name` is the DNS name it answers for (the site's host), not a cloud resource's name.
DNS_NAMED = {"yandex:index/dnsRecordSet:DnsRecordSet"}


@pytest.mark.parametrize("stack", STACKS)
def test_cloud_resources_are_named_after_project_stack_and_component(synthesized: Synth, stack: str) -> None:
    for resource in synthesized(stack).deployed():
        name = resource.inputs.get("name")
        if resource.type in DNS_NAMED:
            continue
        if resource.type.startswith("yandex:") and isinstance(name, str) and "/" not in name:
            assert name.startswith(f"samokoder-{stack}-"), resource.urn


def test_secret_inputs_are_recorded_redacted() -> None:
    def program() -> None:
        pulumi.CustomResource(
            "test:index:Thing", "thing", {"token": pulumi.Output.secret("hunter2"), "plain": "visible"}
        )

    _, monitor, _ = run_mocked(program, "t", {}, [], RecordingMonitor(SynthMocks()))
    (thing,) = [r for r in monitor.recorded if r.type == "test:index:Thing"]
    assert thing.inputs == {"token": REDACTED, "plain": "visible"}


def test_warnings_of_the_program_are_collected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Made-up secrets in plain text in a test's stack file, which synth otherwise refuses.
    monkeypatch.setenv(PLAINTEXT_SECRETS_IN_TESTS, "1")
    # The committed stack file holds no provided secret: the program warns, once each.
    synthesis = synthesize("staging", PROJECT_DIR)
    assert [w.split(" is not set")[0] for w in synthesis.warnings] == [
        "samokoder:secrets.openrouter_api_key",
        "samokoder:secrets.watchdog_url",
        "samokoder:secrets.telegram_bot_token",
    ]
    # With them set, there is nothing to warn about.
    config = {**stack_file_values("staging"), "secrets": provided_secrets()}
    assert synthesize("staging", write_project(tmp_path, "staging", config)).warnings == []
