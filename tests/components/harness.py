"""Build one component alone under Pulumi's mock runtime, as synth runs the whole program.

``build(lambda: Component("name", Args(...)))`` registers just that component
(and whatever its factory builds beside it) and returns what was registered,
so a component's test reads its own resources, not a whole stack's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from infra.conventions import Naming
from infra.ops.synth.mocks import RecordedResource
from infra.ops.synth.runner import run_mocked

T = TypeVar("T")
STACK = "unit"
NAMING = Naming(STACK)


@dataclass(frozen=True)
class Built(Generic[T]):
    component: T
    resources: list[RecordedResource]

    def of_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str) -> RecordedResource:
        (found,) = self.of_type(type_)
        return found

    def named(self, name: str) -> RecordedResource:
        (found,) = [r for r in self.resources if r.name == name]
        return found


def build(factory: Callable[[], T], config: dict[str, Any] | None = None) -> Built[T]:
    """Run `factory` as the whole program of the stack ``unit`` and record what it registers."""
    component, monitor, _ = run_mocked(factory, STACK, config)
    return Built(component, sorted(monitor.recorded, key=lambda r: r.urn))
