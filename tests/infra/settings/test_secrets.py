"""A provided secret is declared once: its settings field, strength check, requirement and catalog entry
all come from the declaration, and no other module of the program spells its name."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import get_args

import pytest
from pydantic import SecretStr, ValidationError

from infra.render.secrets.catalog import ALERTMANAGER_FILES, catalog
from infra.settings.monitoring import Receiver, Receivers
from infra.settings.secrets import PROVIDED_SECRETS, ProvidedSecret, ProvidedSecrets
from infra.settings.stack import StackSettings
from tests.conftest import PROJECT_DIR, provided_secrets
from tests.infra.render.secrets.test_catalog import RECEIVERS, with_receivers

DECLARATION = PROJECT_DIR / "infra" / "settings" / "secrets.py"
PROGRAM = ("infra", "components", "stacks", "policy")
ALL_RECEIVERS = set(RECEIVERS)


def named(secret: ProvidedSecret) -> str:
    return secret.key


def a_value_one_character_short(secret: ProvidedSecret) -> str:
    """Distinct characters, no placeholder: only the length is wrong."""
    return "".join(chr(ord("a") + i % 26) for i in range(secret.rule.min_length - 1))


def test_keys_variables_and_receivers_are_each_declared_once() -> None:
    keys = [s.key for s in PROVIDED_SECRETS]
    variables = [s.variable for s in PROVIDED_SECRETS]
    assert len(set(keys)) == len(keys)
    assert len(set(variables)) == len(variables)
    # Every receiver a secret can wait for is one the settings have, and the other way round.
    assert set(get_args(Receiver)) == set(Receivers.model_fields) == ALL_RECEIVERS


@pytest.mark.parametrize("secret", PROVIDED_SECRETS, ids=named)
def test_a_declared_secret_reaches_every_place_that_uses_it(secret: ProvidedSecret) -> None:
    # The settings model: an optional secret field under its key.
    field = ProvidedSecrets.model_fields[secret.key]
    assert field.annotation == SecretStr | None
    assert field.default is None
    # The strength check: its own rule, by its minimum length and its description.
    with pytest.raises(ValidationError) as refused:
        ProvidedSecrets.model_validate({secret.key: a_value_one_character_short(secret)})
    assert f"{secret.rule.what} needs at least {secret.rule.min_length}" in str(refused.value)
    strong = provided_secrets()[secret.key]
    assert ProvidedSecrets.model_validate({secret.key: strong}).value(secret.key) == strong
    # The required list and the catalog, with every receiver configured.
    stack = with_receivers(ALL_RECEIVERS)
    assert secret.key in stack.required_secrets()
    (group,) = (g for g in catalog(stack) if g.group == secret.group)
    (entry,) = (e for e in group.entries if e.origin == secret.key)
    assert (entry.key, entry.source) == (secret.variable, "provided")
    assert any(secret.variable in target.keys.values() for target in group.targets)


@pytest.mark.parametrize("receiver", sorted(RECEIVERS))
def test_a_receivers_secret_is_required_only_with_that_receiver(receiver: str) -> None:
    always = [s.key for s in PROVIDED_SECRETS if s.receiver is None]
    its_own = [s.key for s in PROVIDED_SECRETS if s.receiver == receiver]
    assert len(its_own) == 1, receiver
    assert set(with_receivers({receiver}).required_secrets()) == {*always, *its_own}
    others = ALL_RECEIVERS - {receiver}
    assert its_own[0] not in with_receivers(others).required_secrets()


def test_each_place_uses_exactly_the_declared_names() -> None:
    stack: StackSettings = with_receivers(ALL_RECEIVERS)
    declared_keys = [s.key for s in PROVIDED_SECRETS]
    assert list(ProvidedSecrets.model_fields) == declared_keys
    # In the declaration's order: the order a stack lists what it is missing.
    assert list(stack.required_secrets()) == declared_keys
    in_catalog = {(e.key, e.origin) for g in catalog(stack) for e in g.entries if e.source == "provided"}
    assert in_catalog == {(s.variable, s.key) for s in PROVIDED_SECRETS}
    assert set(ALERTMANAGER_FILES) == {s for s in PROVIDED_SECRETS if s.group == "monitoring"}
    assert set(provided_secrets()) == set(declared_keys), "tests/conftest.py makes up a value for each"


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring nodes: prose that may name a secret, not a coupling."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _strings(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(), str(path))
    prose = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose:
            yield node.value


def test_no_other_module_of_the_program_spells_a_declared_name() -> None:
    names = {name for s in PROVIDED_SECRETS for name in (s.key, s.variable)}
    spelled = re.compile(rf"\b({'|'.join(map(re.escape, sorted(names)))})\b")
    modules = [p for top in PROGRAM for p in sorted((PROJECT_DIR / top).rglob("*.py")) if p != DECLARATION]
    assert len(modules) > 100, "the scan must see the program"
    found = {
        f"{path.relative_to(PROJECT_DIR)}: {match}"
        for path in modules
        for text in _strings(path)
        for match in spelled.findall(text)
    }
    assert found == set()
    # And the scan does find a name where one is spelled: the declaration itself (its keys; each
    # variable is its key in capitals).
    assert {m for text in _strings(DECLARATION) for m in spelled.findall(text)} == {
        s.key for s in PROVIDED_SECRETS
    }
