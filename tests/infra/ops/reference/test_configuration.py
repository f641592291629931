"""The settings reference: read from the model, complete, and with a meaning for every key."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from typing import Any, Literal

import pydantic
import yaml
from pydantic import Field

from infra.ops.reference.configuration import Key, keys
from infra.settings.base import Clock, StrictModel
from infra.settings.loader import STACK_FILE_KEYS
from infra.settings.stack import StackSettings
from stacks import known_stacks, profile_path
from tests.conftest import PROJECT_DIR, stack_file_values
from tests.test_docs_first_deploy import _models_in, settings_key_exists


class _Limits(StrictModel):
    """Two levels."""

    low: int = Field(ge=1, le=5, description="the lower one")
    high: float = Field(gt=0)


class _Example(StrictModel):
    # The colour, as a comment above the field.
    colour: Literal["red", "green"] = "red"
    at: Clock
    first: _Limits
    second: _Limits | None = None
    names: list[str] = Field(default_factory=list, min_length=0, max_length=3, description="some names")


def _by_path(model: type[pydantic.BaseModel]) -> dict[str, Key]:
    return {key.path: key for key in keys(model)}


def test_a_models_keys_come_with_type_bounds_default_and_meaning() -> None:
    found = _by_path(_Example)
    assert list(found) == ["colour", "at", "first", "first.low", "first.high", "second", "names"]
    assert found["colour"] == Key(
        "colour", "`red` | `green`", "`red`", "The colour, as a comment above the field."
    )
    assert found["at"].type == "a 24-hour time `HH:MM`"
    assert found["at"].default == "required"
    assert found["first"] == Key("first", "section", "required", "Two levels.")
    assert found["first.low"] == Key("first.low", "integer, 1\N{EN DASH}5", "required", "the lower one")
    assert found["first.high"].type == "number, > 0"
    # The second section of the same model points to the first instead of listing its keys again.
    assert found["second"].type == "optional section: keys as `first`"
    assert found["second"].default == "unset"
    assert found["names"] == Key("names", "list of strings, 0\N{EN DASH}3 items", "`[]`", "some names")


def test_every_key_of_the_reference_is_a_key_of_the_model_and_has_a_meaning() -> None:
    listed = list(keys())
    assert len(listed) > 100
    unknown = [k.path for k in listed if not settings_key_exists(k.path)]
    assert not unknown, unknown
    silent = [k.path for k in listed if not k.meaning.strip()]
    assert not silent, f"keys without a description, docstring or comment: {silent}"


def _leaves(node: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, f"{prefix}{key}.")
    else:
        yield prefix.rstrip(".")


def _covering(path: str, listed: set[str]) -> bool:
    """Whether the reference lists the path, or a map or a section it belongs to."""
    parts = path.split(".")
    return any(".".join(parts[:i]) in listed for i in range(len(parts), 0, -1))


def test_every_key_the_committed_stacks_set_is_in_the_reference() -> None:
    listed = {k.path for k in keys()}
    for stack in known_stacks():
        profile = yaml.safe_load(profile_path(stack).read_text())
        stack_file = {k: v for k, v in stack_file_values(stack).items() if k in STACK_FILE_KEYS}
        used = [*_leaves(profile), *_leaves(stack_file)]
        assert used
        missing = [path for path in used if not _covering(path, listed)]
        assert not missing, f"{stack}: keys set but not in the reference: {missing}"


def _production_rules() -> set[str]:
    """The keys whose validators apply a rule only to production stacks (they call is_production)."""
    found: set[str] = set()

    def walk(model: type[pydantic.BaseModel], prefix: str) -> None:
        decorators = model.__pydantic_decorators__
        for validator in decorators.field_validators.values():
            if "is_production(" in inspect.getsource(validator.func):
                found.update(prefix + name for name in validator.info.fields)
        for whole in decorators.model_validators.values():
            if "is_production(" in inspect.getsource(whole.func):
                found.add(prefix.rstrip("."))
        for name, field in model.model_fields.items():
            for inner in _models_in(field.annotation):
                if inner is not dict:
                    walk(inner, f"{prefix}{name}.")

    walk(StackSettings, "")
    return found


def test_the_pages_production_rules_are_the_models() -> None:
    page = (PROJECT_DIR / "docs" / "configuration.md").read_text()
    section = page.split("## Production rules", 1)[1].split("\nBesides", 1)[0]
    named = {
        key
        for item in re.split(r"\n- ", section)[1:]
        for key in re.findall(r"`([a-z_.]+)`", item.split(":", 1)[0])
    }
    unknown = sorted(k for k in named if not settings_key_exists(k))
    assert not unknown, f"docs/configuration.md names production rules on keys the model lacks: {unknown}"
    rules = _production_rules()
    assert rules, "no validator calls is_production: the introspection finds nothing"
    missing = sorted(r for r in rules if not any(k == r or k.startswith(r + ".") for k in named))
    assert not missing, f"production rules docs/configuration.md does not list: {missing}"
    invented = sorted(k for k in named if not any(k == r or k.startswith(r + ".") for r in rules))
    assert not invented, f"docs/configuration.md lists production rules the model does not have: {invented}"
