"""Conventions: names and labels stay within what the Kubernetes API server accepts, for any valid stack."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from infra.conventions import MAX_LABEL_VALUE, MAX_OBJECT_NAME, MAX_STACK_NAME, Naming
from infra.ops.synth.runner import Synthesis
from infra.ops.synth.writer import is_kubernetes_object
from infra.settings.loader import ConfigError, read_profile, validate_settings
from tests.conftest import STACKS, stack_file_values, with_changes

Synth = Callable[[str], Synthesis]


def labels(node: Any) -> Iterator[tuple[str, str]]:
    """Every (key, value) under a ``labels`` mapping anywhere in an object."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("labels", "matchLabels") and isinstance(value, dict):
                yield from ((str(k), str(v)) for k, v in value.items())
            else:
                yield from labels(value)
    elif isinstance(node, list):
        for item in node:
            yield from labels(item)


@pytest.mark.parametrize("stack", STACKS)
def test_every_label_value_of_both_stacks_fits_the_api_servers_limit(synthesized: Synth, stack: str) -> None:
    found = [
        (r.name, key, value)
        for r in synthesized(stack).deployed()
        if is_kubernetes_object(r)
        for key, value in labels(r.inputs)
    ]
    assert len(found) > 100
    too_long = [f for f in found if len(f[2]) > MAX_LABEL_VALUE]
    assert not too_long, too_long


def test_the_longest_object_name_with_the_longest_stack_name_is_still_a_label_value() -> None:
    labelled = Naming("s" * MAX_STACK_NAME).k8s_labels("n" * MAX_OBJECT_NAME, "component")
    assert max(len(v) for v in labelled.values()) == MAX_LABEL_VALUE


def test_an_object_name_longer_than_the_convention_allows_is_refused_where_it_is_made() -> None:
    with pytest.raises(ValueError, match=f"over {MAX_OBJECT_NAME} characters"):
        Naming("prod").k8s_labels("n" * (MAX_OBJECT_NAME + 1), "component")


def test_a_stack_name_that_would_outgrow_the_labels_is_refused_by_the_settings() -> None:
    long_stack = "s" * (MAX_STACK_NAME + 1)
    with pytest.raises(ConfigError) as caught:
        validate_settings(long_stack, read_profile("staging"), stack_file_values("staging"), offline=True)
    assert any("stack" in str(p) for p in caught.value.problems), caught.value.problems


def test_a_migration_revision_longer_than_twelve_hex_digits_is_refused() -> None:
    config = with_changes(stack_file_values("staging"), {"release.migration_revision": "a" * 13})
    with pytest.raises(ConfigError) as caught:
        validate_settings("staging", read_profile("staging"), config, offline=True)
    (problem,) = caught.value.problems
    assert "release.migration_revision" in str(problem)
