"""The settings reference: every key of ``StackSettings`` with its type, default and meaning.

Read from the model itself: field names, annotations, bounds, defaults, and
what each field says about itself (its ``description``, else the comment lines
right above it in the source, else, for a section, its model's docstring).
"""

from __future__ import annotations

import ast
import datetime
import enum
import inspect
import ipaddress
import textwrap
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import annotated_types
import pydantic
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from infra.ops.reference.markdown import DASH, code, table
from infra.settings.loader import NAMESPACE, STACK_FILE_KEYS
from infra.settings.stack import StackSettings

# Set by the loader from the stack's name, never written in a file.
IMPLIED = ("stack",)
HEADERS = ("key", "type", "default", "meaning")


@dataclass(frozen=True)
class Key:
    path: str
    type: str
    default: str
    meaning: str


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _model(annotation: Any) -> type[pydantic.BaseModel] | None:
    inner, _ = _unwrap_optional(annotation)
    if isinstance(inner, type) and issubclass(inner, pydantic.BaseModel):
        return inner
    return None


@cache
def _comments(cls: type) -> dict[str, str]:
    """The comment lines right above each annotated field of a class body, joined."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):  # a model made at run time has no source
        return {}
    lines = source.splitlines()
    body = typing.cast(ast.ClassDef, ast.parse(source).body[0]).body
    found: dict[str, str] = {}
    for node in body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            above: list[str] = []
            index = node.lineno - 2
            while index >= 0 and lines[index].strip().startswith("#"):
                above.insert(0, lines[index].strip().lstrip("#").strip())
                index -= 1
            found[node.target.id] = " ".join(above)
    return found


def _docstring(cls: type) -> str:
    """The first paragraph of a class's own docstring (not an inherited one)."""
    text = cls.__dict__.get("__doc__") or ""
    # Docstrings quote code reStructuredText's way (``x``); Markdown's is `x`.
    return " ".join(inspect.cleandoc(text).split("\n\n")[0].split()).replace("``", "`")


def meaning(cls: type[pydantic.BaseModel], name: str, field: FieldInfo) -> str:
    """The field's description; else, for a section, its model's docstring; else the comment above it."""
    section = _model(field.annotation)
    return (
        field.description
        or (_docstring(section) if section is not None else "")
        or _comments(cls).get(name, "")
    )


def _bound_text(metadata: list[Any]) -> str:
    low = next((f"≥ {m.ge}" for m in metadata if isinstance(m, annotated_types.Ge)), "")
    low = low or next((f"> {m.gt}" for m in metadata if isinstance(m, annotated_types.Gt)), "")
    high = next((f"≤ {m.le}" for m in metadata if isinstance(m, annotated_types.Le)), "")
    high = high or next((f"< {m.lt}" for m in metadata if isinstance(m, annotated_types.Lt)), "")
    if low.startswith("≥") and high.startswith("≤"):
        return f"{low[2:]}{DASH}{high[2:]}"
    return ", ".join(part for part in (low, high) if part)


def _length_text(metadata: list[Any]) -> str:
    low = next((m.min_length for m in metadata if isinstance(m, annotated_types.MinLen)), None)
    high = next((m.max_length for m in metadata if isinstance(m, annotated_types.MaxLen)), None)
    if low is not None and high is not None:
        return f"{low}{DASH}{high} items"
    if low is not None:
        return f"at least {low}"
    return f"at most {high}" if high is not None else ""


def _checked_as(metadata: list[Any]) -> str:
    """What a value's own checks say it is: a validator's docstring, else the pattern it matches."""
    for item in metadata:
        check = getattr(item, "func", None)
        if isinstance(item, pydantic.AfterValidator) and check is not None and check.__doc__:
            return " ".join(check.__doc__.split())
    pattern = next((getattr(m, "pattern", None) for m in metadata if getattr(m, "pattern", None)), None)
    return f"string matching {code(pattern)}" if pattern else ""


SCALARS: dict[Any, str] = {
    bool: "bool",
    int: "integer",
    float: "number",
    str: "string",
    # Stored encrypted in the stack file (pulumi config set --secret).
    pydantic.SecretStr: "encrypted string",  # pragma: allowlist secret
    datetime.datetime: "ISO 8601 time with its offset",
    ipaddress.IPv4Network: "IPv4 CIDR",
}


def _literal(annotation: Any) -> str:
    return " | ".join(code(value) for value in typing.get_args(annotation))


def type_text(annotation: Any) -> str:
    """A plain-words name of an annotation (its bounds are the field's metadata, added apart)."""
    annotation, _ = _unwrap_optional(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return _literal(annotation)
    if origin in (list, tuple):
        item = type_text(typing.get_args(annotation)[0])
        return f"list of {item}s" if item in SCALARS.values() else f"list of {item}"
    if origin is dict:
        key, value = typing.get_args(annotation)
        return f"map of {type_text(key)} to {type_text(value)}"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return " | ".join(code(member.value) for member in annotation)
    if _model(annotation) is not None:
        return "section"
    return SCALARS.get(annotation, getattr(annotation, "__name__", str(annotation)))


def field_type(field: FieldInfo) -> str:
    inner, optional = _unwrap_optional(field.annotation)
    if _model(inner) is not None:
        return "optional section" if optional and field.default is None else "section"
    words = _checked_as(field.metadata) or type_text(field.annotation)
    limits = _bound_text(field.metadata) or _length_text(field.metadata)
    return f"{words}, {limits}" if limits else words


def _value(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return code(str(value).lower())
    if isinstance(value, pydantic.BaseModel):
        return "as below"
    if isinstance(value, list | tuple | dict) and not value:
        return code("{}" if isinstance(value, dict) else "[]")
    return code(value)


def default_text(field: FieldInfo) -> str:
    if field.default_factory is not None:
        return _value(field.default_factory())  # type: ignore[call-arg]
    if field.default is PydanticUndefined:
        return "required"
    return _value(field.default)


def keys(
    cls: type[pydantic.BaseModel] = StackSettings, prefix: str = "", seen: dict[type, str] | None = None
) -> Iterator[Key]:
    """Every key of the model, depth first, sections before their keys.

    A section whose model was listed before says where, instead of listing
    the same keys again (the thresholds share three models).
    """
    seen = {} if seen is None else seen
    for name, field in cls.model_fields.items():
        path = prefix + name
        kind, section = field_type(field), _model(field.annotation)
        if section is not None and section in seen:
            kind = f"{kind}: keys as {code(seen[section])}"
        yield Key(path, kind, default_text(field), meaning(cls, name, field))
        if section is not None and section not in seen:
            seen[section] = path
            yield from keys(section, path + ".", seen)


def _rows(selected: Iterator[Key], namespace: str = "") -> list[tuple[str, str, str, str]]:
    return [(code(namespace + k.path), k.type, k.default, k.meaning) for k in selected]


def stack_file_table() -> str:
    """The keys of ``Pulumi.<stack>.yaml``, under the ``samokoder:`` namespace."""
    chosen = (k for k in keys() if k.path.split(".")[0] in STACK_FILE_KEYS)
    return table(HEADERS, _rows(chosen, f"{NAMESPACE}:"))


def profile_table() -> str:
    """The keys of ``stacks/<stack>.yaml``: everything the stack file does not hold."""
    chosen = (k for k in keys() if k.path.split(".")[0] not in (*STACK_FILE_KEYS, *IMPLIED))
    return table(HEADERS, _rows(chosen))
