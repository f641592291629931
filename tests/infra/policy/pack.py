"""The real policy pack, started in its own environment, asked through the engine's analyzer protocol.

`pulumi preview --policy-pack policy/` starts `policy/__main__.py`, reads the
port it prints, and calls its Analyzer service for each resource and for the
stack. This does the same, without the CLI.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from tests.conftest import PROJECT_DIR
from tests.tools import TOOLS_BIN

POLICY_PYTHON = TOOLS_BIN.parent / "policy-venv" / "bin" / "python"


@dataclass(frozen=True)
class Finding:
    policy: str
    message: str
    enforcement: str
    urn: str


def _struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    json_format.ParseDict(dict(props), message)
    return message


def _resource(
    kind: str, name: str, props: Mapping[str, Any], protect: bool, secret_outputs: Sequence[str] = ()
) -> dict[str, Any]:
    return {
        "type": kind,
        "properties": _struct(props),
        "urn": f"urn:pulumi:test::samokoder::{kind}::{name}",
        "name": name,
        "options": analyzer_pb2.AnalyzerResourceOptions(
            protect=protect, additionalSecretOutputs=list(secret_outputs)
        ),
    }


class Pack:
    def __init__(self, channel: grpc.Channel) -> None:
        self._analyzer = analyzer_pb2_grpc.AnalyzerStub(channel)

    def _findings(self, response: Any) -> list[Finding]:
        levels = {0: "advisory", 1: "mandatory", 2: "disabled", 3: "remediate"}
        return [
            Finding(d.policyName, d.message, levels.get(d.enforcementLevel, str(d.enforcementLevel)), d.urn)
            for d in response.diagnostics
        ]

    def analyze(
        self,
        kind: str,
        name: str,
        props: Mapping[str, Any],
        protect: bool = False,
        secret_outputs: Sequence[str] = (),
    ) -> list[Finding]:
        """What the pack reports on one resource; `secret_outputs` as its additional_secret_outputs."""
        request = analyzer_pb2.AnalyzeRequest(**_resource(kind, name, props, protect, secret_outputs))
        return self._findings(self._analyzer.Analyze(request))

    def analyze_stack(self, resources: list[tuple[str, str, Mapping[str, Any], bool]]) -> list[Finding]:
        request = analyzer_pb2.AnalyzeStackRequest(
            resources=[analyzer_pb2.AnalyzerResource(**_resource(*r)) for r in resources]
        )
        return self._findings(self._analyzer.AnalyzeStack(request))

    def configure(self, config: Mapping[str, Mapping[str, Any]]) -> None:
        """Give the pack a policy pack config, as `--policy-pack-config FILE` does (levels as in the file)."""
        levels = {"advisory": 0, "mandatory": 1, "disabled": 2}
        request = analyzer_pb2.ConfigureAnalyzerRequest(
            policyConfig={
                name: analyzer_pb2.PolicyConfig(
                    enforcementLevel=levels[str(settings.get("enforcementLevel", "advisory"))],  # type: ignore[arg-type]
                    properties=_struct({k: v for k, v in settings.items() if k != "enforcementLevel"}),
                )
                for name, settings in config.items()
            }
        )
        self._analyzer.Configure(request)

    def policy_names(self) -> list[str]:
        from google.protobuf import empty_pb2  # noqa: PLC0415

        info = self._analyzer.GetAnalyzerInfo(empty_pb2.Empty())
        return [p.name for p in info.policies]


@contextmanager
def running_pack() -> Iterator[Pack]:
    if not POLICY_PYTHON.is_file():
        raise AssertionError(f"the policy pack's environment is missing at {POLICY_PYTHON}: run 'make tools'")
    process = subprocess.Popen(
        [str(POLICY_PYTHON), str(PROJECT_DIR / "policy" / "__main__.py")],
        cwd=PROJECT_DIR / "policy",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        if not port.isdigit():
            process.kill()
            raise AssertionError(f"the policy pack did not start: {port}{process.communicate()[1]}")
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=30)
            yield Pack(channel)
    finally:
        process.kill()
        process.wait(timeout=10)
