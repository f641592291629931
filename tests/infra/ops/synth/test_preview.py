"""Synth as a stack's first `pulumi preview`: nothing exists yet, so ids and computed outputs are unknown.

The program must get through it (no apply may trip on an unknown), every
dynamic provider's check must take the unknowns it is given, and what is
recorded must say ``[unknown]`` exactly where the normal synth has a value
only a created resource gives. A preview's build never lands where the
normal synth's does.
"""

from __future__ import annotations

import gc
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc

from infra.ops.cli import main as cli
from infra.ops.cli.synth import out_dir_of
from infra.ops.synth.mocks import UNKNOWN_MARK, RecordingMonitor, SynthMocks, mock_id
from infra.ops.synth.preview import PreviewCheckFailed
from infra.ops.synth.runner import Synthesis, run_mocked, synthesize
from infra.providers.egress.provider import GatewayRouteTable
from infra.providers.lockbox.provider import LockboxSecret
from infra.providers.yandex.connection import Connection
from infra.providers.yandex.unknowns import is_unknown
from infra.settings.source import REDACTED
from tests.conftest import PROJECT_DIR, STACKS

Synth = Callable[[str], Synthesis]
LOCKBOX = "pulumi-python:dynamic:Resource"
PREVIEWS: dict[str, tuple[Synthesis, RecordingMonitor]] = {}


def previewed(stack: str) -> tuple[Synthesis, RecordingMonitor]:
    """`stack` as its first preview sees it, and the monitor that answered (synthesized once)."""
    if stack not in PREVIEWS:
        monitor = RecordingMonitor(SynthMocks(preview=True))
        PREVIEWS[stack] = (synthesize(stack, PROJECT_DIR, monitor, preview=True), monitor)
    return PREVIEWS[stack]


def as_json(synthesis: Synthesis) -> str:
    return json.dumps(
        {"resources": [r.as_json() for r in synthesis.resources], "outputs": synthesis.outputs},
        sort_keys=True,
    )


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, f"{path}[{index}]")
    else:
        yield path, value


def unknown_only_where_they_differ(normal: Any, preview: Any, path: str = "") -> list[str]:
    """Paths where the preview differs from the normal synth by something other than an unknown.

    A secret not known yet is written as a secret; the normal synth writes a
    secret map by its keys.
    """
    if preview in (UNKNOWN_MARK, normal):
        return []
    if preview == REDACTED and all(value == REDACTED for _, value in leaves(normal)):
        return []
    if isinstance(normal, dict) and isinstance(preview, dict) and set(normal) == set(preview):
        return [
            p
            for key in normal
            for p in unknown_only_where_they_differ(normal[key], preview[key], f"{path}.{key}")
        ]
    if isinstance(normal, list) and isinstance(preview, list) and len(normal) == len(preview):
        return [
            p
            for i, (a, b) in enumerate(zip(normal, preview, strict=True))
            for p in unknown_only_where_they_differ(a, b, f"{path}[{i}]")
        ]
    return [path]


@pytest.mark.parametrize("stack", STACKS)
def test_both_stacks_synthesize_as_a_first_preview_with_the_same_resources(
    synthesized: Synth, stack: str
) -> None:
    preview, _ = previewed(stack)
    assert preview.preview is True
    assert [r.urn for r in preview.resources] == [r.urn for r in synthesized(stack).resources]
    assert preview.warnings == synthesized(stack).warnings


@pytest.mark.parametrize("stack", STACKS)
def test_a_preview_knows_what_the_program_knows_and_nothing_a_cloud_computes(
    synthesized: Synth, stack: str
) -> None:
    preview, _ = previewed(stack)
    normal = {r.urn: r for r in synthesized(stack).resources}
    text = as_json(preview)
    # No id of a resource that does not exist yet, no value an up's cloud computes.
    ids = {mock_id(r.type, r.name) for r in preview.resources}
    assert not [i for i in ids if i in text]
    # (the mock cloud's CA, keys and addresses)
    assert "MOCK" not in text
    assert "203.0.113.10" not in text
    assert "pulumi.output.Unknown" not in text
    assert rpc.UNKNOWN not in text
    assert UNKNOWN_MARK in text
    # Everything else is as the normal synth has it.
    for resource in preview.resources:
        assert unknown_only_where_they_differ(normal[resource.urn].inputs, resource.inputs) == [], (
            resource.urn
        )
    assert unknown_only_where_they_differ(synthesized(stack).outputs, preview.outputs) == []


@pytest.mark.parametrize("stack", STACKS)
def test_inputs_made_from_ids_are_unknown(stack: str) -> None:
    preview, _ = previewed(stack)
    lockbox = [r for r in preview.resources if r.type == LOCKBOX]
    assert lockbox
    for secret in lockbox:
        assert secret.inputs["kms_key_id"] == UNKNOWN_MARK
        assert secret.inputs["payload_viewers"] == [UNKNOWN_MARK]
    assert preview.outputs["cluster_id"] == UNKNOWN_MARK
    assert preview.outputs["kubeconfig"] == UNKNOWN_MARK


def test_a_preview_is_the_same_every_time() -> None:
    again = synthesize("staging", PROJECT_DIR, preview=True)
    assert as_json(again) == as_json(previewed("staging")[0])


@pytest.mark.parametrize("stack", STACKS)
def test_every_lockbox_secret_was_checked_by_its_provider_with_its_unknowns(stack: str) -> None:
    _, monitor = previewed(stack)
    states = [r.state for urn, r in monitor.resources.items() if urn.split("::")[2].endswith(LOCKBOX)]
    assert states
    for state in states:
        assert not {"salt", "fingerprints"} & set(state), "nothing derived from a value is kept"
        # Not computed from the sentinel: the payload is not known at a first preview.
        assert is_unknown(rpc.unwrap_rpc_secret(state["payload"]))
        assert rpc.is_rpc_secret(state["payload"]), "the payload stays secret"


@pytest.fixture
def failed_runs_quiet() -> Iterator[None]:
    """A failed run leaves futures holding its error; asyncio would log each as never retrieved."""
    asyncio_log = logging.getLogger("asyncio")
    asyncio_log.disabled = True
    try:
        yield
    finally:
        # A fresh run lets go of the failed one; collected now, its futures stay quiet.
        run_mocked(lambda: None, "unit")
        gc.collect()
        asyncio_log.disabled = False


def run_preview(body: Callable[[], object]) -> None:
    run_mocked(body, "unit", monitor=RecordingMonitor(SynthMocks(preview=True)), preview=True)


@pytest.mark.usefixtures("failed_runs_quiet")
def test_a_dynamic_providers_check_failure_fails_the_preview_and_an_unknown_is_not_judged() -> None:
    connection = Connection(auth="iam_token")

    def table(prefix: pulumi.Input[str]) -> None:
        GatewayRouteTable(
            "egress",
            connection=connection,
            folder_id="b1gfolder00000000001",
            network_id=pulumi.Output.from_input("enp"),
            name="samokoder-unit-egress",
            routes=[{"destination_prefix": prefix, "gateway_id": "enpgateway"}],
        )

    with pytest.raises(
        PreviewCheckFailed,
        match=r"'egress': check failed: routes\[0\]: destination_prefix is not an IPv4 CIDR",
    ):
        run_preview(lambda: table("0.0.0.0/33"))
    # A value made at apply is not known at preview, and passes.
    run_preview(lambda: table(pulumi.Output(set(), _unknown(), _false(), _false())))

    with pytest.raises(PreviewCheckFailed, match=r"payload: a Lockbox version needs at least one entry"):
        run_preview(
            lambda: LockboxSecret(
                "secret", connection=connection, folder_id="f", name="n", kms_key_id="k", payload={}
            )
        )


def _unknown() -> Any:
    import asyncio  # noqa: PLC0415

    future: asyncio.Future[Any] = asyncio.get_event_loop().create_future()
    future.set_result(None)
    return future


def _false() -> Any:
    import asyncio  # noqa: PLC0415

    future: asyncio.Future[bool] = asyncio.get_event_loop().create_future()
    future.set_result(False)
    return future


def test_a_preview_is_written_apart_from_the_normal_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert out_dir_of(PROJECT_DIR, "staging", preview=True) == PROJECT_DIR / "build" / "staging-preview"
    assert out_dir_of(PROJECT_DIR, "staging", preview=False) == PROJECT_DIR / "build" / "staging"
    out = tmp_path / "staging-preview"
    assert cli(["synth", "staging", "--preview", "--out", str(out)]) == 0
    assert UNKNOWN_MARK in (out / "resources.json").read_text()
    assert not (out / "policy-report.json").exists()
    assert "not run on a preview" in capsys.readouterr().out
