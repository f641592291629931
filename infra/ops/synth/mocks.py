"""Pulumi's mock runtime, set up to record what the program would deploy.

`SynthMocks` answers resource registrations the way a cloud would (ids, and
the computed outputs the program reads), deterministically: the same program
gives the same ids and outputs on every run. With ``preview=True`` it answers
as the engine does at a stack's first preview: no ids, every computed output
unknown, dynamic resources checked by their providers
(``infra/ops/synth/preview.py``). `RecordingMonitor` keeps what each
registration asked for: type, name, parent, provider, options, inputs.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pulumi.output import Unknown
from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks, rpc
from pulumi.runtime.mocks import MockMonitor

from infra.ops.synth.preview import checked_at_preview, is_dynamic, unknown_leaves
from infra.settings.source import REDACTED

# Yandex Cloud ids start with a service prefix; mock ids keep them readable.
_ID_PREFIX = {
    "yandex:index/containerRegistry:ContainerRegistry": "crp",
    "yandex:index/kubernetesCluster:KubernetesCluster": "cat",
    "yandex:index/iamServiceAccount:IamServiceAccount": "aje",
    "yandex:index/kmsSymmetricKey:KmsSymmetricKey": "abj",
}
# When every mock resource was "created": fixed, so synth output does not drift.
MOCK_TIME = "2026-11-01T00:00:00Z"
_MOCK_CA = "-----BEGIN CERTIFICATE-----\nMOCK-CLUSTER-CA\n-----END CERTIFICATE-----\n"
# How a value not known yet (at preview) is written: beside REDACTED, never a real value.
UNKNOWN_MARK = "[unknown]"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def mock_id(type_: str, name: str) -> str:
    return _ID_PREFIX.get(type_, "mck") + _digest(type_, name)[:17]


def _cluster(args: MockResourceArgs) -> dict[str, Any]:
    return {
        # Merged into the master's inputs.
        "master": {
            # Documentation addresses (RFC 5737): never routable.
            "externalV4Endpoint": "https://203.0.113.10",
            "internalV4Endpoint": "https://10.255.0.10",
            "clusterCaCertificate": _MOCK_CA,
        }
    }


def _address(args: MockResourceArgs) -> dict[str, Any]:
    # A reserved external address, in RFC 5737's documentation range: never routable.
    return {"externalIpv4Address": {"address": f"203.0.113.{int(_digest(args.name)[:2], 16) % 200 + 20}"}}


def _static_key(args: MockResourceArgs) -> dict[str, Any]:
    # Shaped like real keys; the program marks the secret half secret.
    return {
        "accessKey": f"YCAJE{_digest(args.typ, args.name)[:20]}",
        "secretKey": f"YCM{_digest(args.name, args.typ)[:37]}",
    }


def _authorized_key(args: MockResourceArgs) -> dict[str, Any]:
    return {
        "createdAt": MOCK_TIME,
        "publicKey": "-----BEGIN PUBLIC KEY-----\nMOCK\n-----END PUBLIC KEY-----\n",
        "privateKey": f"MOCK PRIVATE KEY OF {args.name}",
    }


def _random_password(args: MockResourceArgs) -> dict[str, Any]:
    return {"result": _digest(args.typ, args.name)[: int(args.inputs.get("length", 16))]}


def _random_id(args: MockResourceArgs) -> dict[str, Any]:
    raw = bytes.fromhex(_digest(args.typ, args.name))[: int(args.inputs.get("byteLength", 8))]
    # As the provider computes it: URL-safe base64 without padding.
    return {"b64Url": base64.urlsafe_b64encode(raw).decode().rstrip("="), "hex": raw.hex()}


def _dynamic(args: MockResourceArgs) -> dict[str, Any]:
    if "payload" not in args.inputs:
        return {}
    # A Lockbox secret as the provider reports it after create.
    return {"created_at": MOCK_TIME, "version_id": f"mck{_digest(args.name)[:17]}"}


def _image(args: MockResourceArgs) -> dict[str, Any]:
    repository = str(args.inputs.get("imageName", args.name)).rsplit(":", 1)[0]
    return {"repoDigest": f"{repository}@sha256:{_digest(args.typ, args.name)}"}


# Outputs a real provider computes and the program reads, by resource type.
_COMPUTED: dict[str, Callable[[MockResourceArgs], dict[str, Any]]] = {
    "yandex:index/kubernetesCluster:KubernetesCluster": _cluster,
    "yandex:index/vpcAddress:VpcAddress": _address,
    "yandex:index/iamServiceAccountStaticAccessKey:IamServiceAccountStaticAccessKey": _static_key,
    "yandex:index/iamServiceAccountKey:IamServiceAccountKey": _authorized_key,
    "random:index/randomPassword:RandomPassword": _random_password,
    "random:index/randomId:RandomId": _random_id,
    "pulumi-python:dynamic:Resource": _dynamic,
    "docker:index/image:Image": _image,
}


def _computed_outputs(args: MockResourceArgs) -> dict[str, Any]:
    computed = _COMPUTED.get(args.typ)
    return computed(args) if computed else {}


def _merged(inputs: dict[str, Any], computed: dict[str, Any]) -> dict[str, Any]:
    """The inputs with the computed outputs laid over them (a map into the input's map)."""
    merged = dict(inputs)
    for key, value in computed.items():
        known = merged.get(key)
        merged[key] = _merged(known, value) if isinstance(value, dict) and isinstance(known, dict) else value
    return merged


class SynthMocks(Mocks):
    def __init__(self, preview: bool = False) -> None:
        # A first preview: nothing exists yet.
        self.preview = preview

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if not self.preview:
            return mock_id(args.typ, args.name), _merged(args.inputs, _computed_outputs(args))
        # No id (an empty one is unknown), computed outputs unknown, the inputs as given
        # or, for a dynamic resource, as its provider's check returns them.
        inputs = checked_at_preview(args) if is_dynamic(args.typ) else args.inputs
        return None, _merged(inputs, unknown_leaves(_computed_outputs(args)))

    def call(self, args: MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        # No data-source lookups are made by the program; failing loudly
        # catches one that slips in and would need a cloud.
        raise NotImplementedError(f"synth has no answer for the function call {args.token}")


@dataclass(frozen=True)
class RecordedResource:
    urn: str
    type: str
    name: str
    parent: str
    provider: str
    custom: bool
    protect: bool
    dependencies: tuple[str, ...]
    inputs: dict[str, Any]
    # Input properties an update leaves alone (the resource's ignore_changes).
    ignore_changes: tuple[str, ...] = ()
    # Outputs the engine keeps secret whatever the provider says (additional_secret_outputs).
    secret_outputs: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        # The secret outputs are the policies' to read, not resources.json's.
        fields = {
            f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "secret_outputs"
        }
        return {key: list(value) if isinstance(value, tuple) else value for key, value in fields.items()}


class RecordingMonitor(MockMonitor):
    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self._lock = threading.Lock()
        self.recorded: list[RecordedResource] = []
        self.stack_outputs: dict[str, Any] = {}

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        record = RecordedResource(
            urn=response.urn,
            type=request.type,
            name=request.name,
            parent=request.parent,
            # A provider reference is "<urn>::<id>"; the urn is the stable part.
            provider=request.provider.rsplit("::", 1)[0] if request.provider else "",
            custom=bool(request.custom),
            protect=bool(request.protect),
            dependencies=tuple(sorted(set(request.dependencies))),
            inputs=redact(rpc.deserialize_properties(request.object)),
            ignore_changes=tuple(request.ignoreChanges),
            secret_outputs=tuple(sorted(request.additionalSecretOutputs)),
        )
        with self._lock:
            self.recorded.append(record)
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn.split("::")[2] == "pulumi:pulumi:Stack":
            with self._lock:
                self.stack_outputs = redact(rpc.deserialize_properties(request.outputs))
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


def redact(value: Any) -> Any:
    """A JSON-ready copy of `value` with every secret, and every value not known yet, replaced by a marker."""
    if isinstance(value, Unknown) or (isinstance(value, str) and value == rpc.UNKNOWN):
        return UNKNOWN_MARK
    # A secret reaches the monitor wrapped as the mock runtime's own deserializer
    # wraps it (pulumi.runtime.rpc.deserialize_properties); its helpers tell and unwrap it.
    if rpc.is_rpc_secret(value):
        inner = rpc.unwrap_rpc_secret(value)
        # A secret map (a Secret's data) keeps its keys: they name what is
        # held, and the manifest stays a valid object.
        return {str(k): REDACTED for k in inner} if isinstance(inner, dict) else REDACTED
    if isinstance(value, dict):
        return {str(k): redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
