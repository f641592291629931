"""Values a dynamic provider's ``check`` and ``diff`` receive before they are known.

At ``pulumi preview``, and for any input computed from a resource that is yet
to be created or is being replaced (a new random password, a KMS key's id, a
rotation), the engine sends the unknown sentinel: the string
``pulumi.runtime.rpc.UNKNOWN`` ("04da6b54-80e4-46f7-96ec-b56ff0331ba9").
The Python dynamic provider (``pulumi/dynamic/__main__.py``) deserializes the
olds and news of ``Check`` and ``Diff`` with ``keep_unknowns=True``, so the
sentinel reaches ``check`` and ``diff`` as a ``pulumi.output.Unknown`` in place
of a whole input, of a map's value or of a list's element (never of a map's
key: a protobuf Struct's keys are strings). An input built from an Output that
holds an unknown anywhere (``Output.secret({...})``) arrives wholly unknown.
The engine strips secrets before calling a dynamic provider, which accepts
none, so known values arrive plain. ``create``, ``update``, ``read`` and
``delete`` never see an unknown: ``pulumi up`` resolves every input first.

What ``check`` returns is serialized again, an ``Unknown`` as the sentinel:
a value computed from an unknown (a fingerprint) is returned unknown, not
computed from the sentinel's text.
"""

from __future__ import annotations

from typing import Any

from pulumi.output import UNKNOWN, Unknown
from pulumi.runtime.rpc import UNKNOWN as SENTINEL

__all__ = ["SENTINEL", "UNKNOWN", "contains_unknowns", "differs", "is_unknown", "same_or_unknown"]


def is_unknown(value: Any) -> bool:
    """`value` is not known yet: deserialized (an ``Unknown``) or still the wire's sentinel string."""
    return isinstance(value, Unknown) or (isinstance(value, str) and value == SENTINEL)


def contains_unknowns(value: Any) -> bool:
    """`value`, or anything inside it, is not known yet."""
    if is_unknown(value):
        return True
    if isinstance(value, dict):
        return any(contains_unknowns(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(contains_unknowns(v) for v in value)
    return False


def differs(old: Any, new: Any) -> bool:
    """Whether an input changes. A value not known yet may, so it counts as a change:

    an update for an input the API updates in place, a replacement for one it
    cannot (as the engine and the Terraform bridge report an unknown input).
    """
    return contains_unknowns(new) or contains_unknowns(old) or old != new


def same_or_unknown(old: Any, new: Any) -> bool:
    """`new` is `old`, or may turn out to be (not known yet)."""
    return contains_unknowns(new) or old == new
