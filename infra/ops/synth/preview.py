"""A first ``pulumi preview``, offline: what the engine knows of a resource that does not exist yet.

Under the mock runtime with ``preview=True`` (``synthesize(..., preview=True)``,
``samokoder-infra synth --preview``) every resource is new, as at the first
preview of a stack: it has no id yet, and every output its provider computes
is unknown (the inputs it was given are known). The program's applies on
those unknowns do not run, as in a real preview, and whatever depends on them
is registered with unknown inputs.

A dynamic resource is checked as the engine would check it: the engine calls
the Python dynamic provider's ``Check`` with no olds and the new inputs,
secrets stripped (the provider accepts none) and unknowns kept; the provider
(``__provider``, serialized with dill) runs ``check`` on them, and a failure
fails the preview. What check returns is the resource's state at preview.
"""

from __future__ import annotations

import base64
from typing import Any

import dill  # type: ignore[import-untyped]
from pulumi.dynamic import ResourceProvider
from pulumi.runtime import MockResourceArgs, rpc

PROVIDER_KEY = "__provider"


class PreviewCheckFailed(Exception):
    """A dynamic provider's check refused a resource's inputs at preview, as the engine would report."""


def unknown_leaves(value: Any) -> Any:
    """`value`'s shape with the unknown sentinel at every leaf: outputs a provider computes, at preview."""
    if isinstance(value, dict):
        return {k: unknown_leaves(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unknown_leaves(v) for v in value]
    return rpc.UNKNOWN


def plain(value: Any) -> Any:
    """`value` with every secret unwrapped: what the engine sends a provider that accepts no secrets."""
    if rpc.is_rpc_secret(value):
        return plain(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def is_dynamic(type_: str) -> bool:
    return type_.startswith("pulumi-python:dynamic")


def checked_at_preview(args: MockResourceArgs) -> dict[str, Any]:
    """A new dynamic resource's state at preview: its provider's check of its inputs, secrets kept secret."""
    inputs: dict[str, Any] = args.inputs
    # The provider serialized in the inputs, loaded as ``pulumi.dynamic`` loads it.
    provider = dill.loads(base64.b64decode(plain(inputs[PROVIDER_KEY])))
    assert isinstance(provider, ResourceProvider)
    result = provider.check({}, plain(inputs))
    if result.failures:
        reasons = "; ".join(f"{failure.property}: {failure.reason}" for failure in result.failures)
        raise PreviewCheckFailed(f"{args.typ} '{args.name}': check failed: {reasons}")
    checked = dict(result.inputs)
    checked[PROVIDER_KEY] = inputs[PROVIDER_KEY]
    # The engine keeps an input's secrecy on what the provider returns for it.
    return {
        key: rpc.wrap_rpc_secret(value) if rpc.is_rpc_secret(inputs.get(key)) else value
        for key, value in checked.items()
    }
