"""Pulumi's Python dynamic provider, run as the engine runs it, and called as the engine calls it.

``python -m pulumi.dynamic`` (what the ``pulumi-resource-pulumi-python``
plugin starts) prints its port and serves the ResourceProvider gRPC protocol.
The engine configures it (it accepts no secrets, so the engine strips them),
then calls ``Check`` and ``Diff`` with the unknown sentinel wherever a value
is not known yet; the serialized provider travels in the ``__provider`` input.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import struct_pb2
from pulumi.dynamic import ResourceProvider
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from tests.conftest import PROJECT_DIR

PROVIDER_KEY = "__provider"
URN = "urn:pulumi:unit::samokoder::pulumi-python:dynamic:Resource::resource"


def struct(props: dict[str, Any]) -> struct_pb2.Struct:
    """`props` on the wire: an unknown is the sentinel string, a secret is sent plain."""
    wire = struct_pb2.Struct()
    wire.update(_plain(props))
    return wire


def _plain(value: Any) -> Any:
    if rpc.is_rpc_secret(value):
        return _plain(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value.__class__.__name__ == "Unknown":
        return rpc.UNKNOWN
    return value


def python(value: struct_pb2.Struct) -> dict[str, Any]:
    """A struct back as plain Python, the sentinel left as it is (as the engine reads it)."""
    return {k: _python(v) for k, v in value.items()}


def _python(value: Any) -> Any:
    if isinstance(value, struct_pb2.Struct):
        return python(value)
    if isinstance(value, struct_pb2.ListValue):
        return [_python(v) for v in value]
    return value


@dataclass(frozen=True)
class Checked:
    inputs: dict[str, Any]
    failures: dict[str, str]


@dataclass(frozen=True)
class Diffed:
    changes: str
    replaces: list[str]
    delete_before_replace: bool


class DynamicProvider:
    """A running ``python -m pulumi.dynamic``, its methods called for one provider."""

    def __init__(self, stub: provider_pb2_grpc.ResourceProviderStub, provider: ResourceProvider) -> None:
        self._stub = stub
        self._serialized = serialize_provider(provider)

    def _with_provider(self, props: dict[str, Any]) -> struct_pb2.Struct:
        return struct({**props, PROVIDER_KEY: self._serialized} if props else {})

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> Checked:
        response = self._stub.Check(
            provider_pb2.CheckRequest(urn=URN, olds=self._with_provider(olds), news=self._with_provider(news))
        )
        inputs = python(response.inputs)
        inputs.pop(PROVIDER_KEY)
        return Checked(inputs, {f.property: f.reason for f in response.failures})

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> Diffed:
        response = self._stub.Diff(
            provider_pb2.DiffRequest(
                id=id_, urn=URN, olds=self._with_provider(olds), news=self._with_provider(news)
            )
        )
        return Diffed(
            changes=provider_pb2.DiffResponse.DiffChanges.Name(response.changes),
            replaces=list(response.replaces),
            delete_before_replace=response.deleteBeforeReplace,
        )


@contextmanager
def serving_dynamic_provider() -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    """``python -m pulumi.dynamic`` on loopback, configured as the engine configures it."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_DIR), os.environ.get("PYTHONPATH")])),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "pulumi.dynamic"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().strip())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=30)
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            configured = stub.Configure(provider_pb2.ConfigureRequest(args=struct_pb2.Struct()))
            assert configured.acceptSecrets is False, "the engine must strip secrets for it"
            yield stub
    finally:
        process.terminate()
        process.wait(timeout=15)
