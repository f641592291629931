"""What each stack deploys: its resources by type, counted in its synthesis."""

from __future__ import annotations

import importlib
import pkgutil

import pulumi

import components
from infra.ops.reference.markdown import code, table
from infra.ops.reference.sources import Sources, per_stack, stacks
from infra.render import charts

# Who provides a type, by the part of its token before the first ':', in the order shown.
PROVIDERS = {
    "yandex": "Yandex Cloud (pulumi-yandex)",
    "pulumi-python": "Dynamic providers over the yandexcloud SDK (`infra/providers/`)",
    "kubernetes": "Kubernetes (pulumi-kubernetes)",
    "random": "Generated values (pulumi-random)",
    "pulumi": "Provider instances",
    "samokoder": "The program's components (`components/`)",
}
OTHER = "Other"


def _provider(type_: str) -> str:
    return PROVIDERS.get(type_.split(":", 1)[0], OTHER)


def resources_table(sources: Sources) -> str:
    counts = {stack: sources.synthesis(stack).counts_by_type() for stack in stacks()}
    every_type = sorted({t for c in counts.values() for t in c})
    rows: list[tuple[str, ...]] = []
    for provider in [*PROVIDERS.values(), OTHER]:
        types = [t for t in every_type if _provider(t) == provider]
        if not types:
            continue
        subtotals = (sum(c.get(t, 0) for t in types) for c in counts.values())
        rows.append((f"**{provider}**", *(f"**{n}**" for n in subtotals)))
        rows += [(code(t), *(str(c.get(t, 0)) for c in counts.values())) for t in types]
    rows.append(("**total**", *(f"**{sum(c.values())}**" for c in counts.values())))
    return table(("type", *counts), rows)


def charts_table(_: Sources) -> str:
    """Every Helm chart the program pins (``infra/render/charts.py``), in the order it lists them."""
    pinned = [value for value in vars(charts).values() if isinstance(value, charts.Chart)]
    return table(
        ("chart", "version", "repository"), [(code(c.name), c.version, c.repository) for c in pinned]
    )


def _component_modules() -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for info in pkgutil.iter_modules(components.__path__):
        module = importlib.import_module(f"{components.__name__}.{info.name}")
        summary = (module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else ""
        for name, value in vars(module).items():
            if (
                isinstance(value, type)
                and issubclass(value, pulumi.ComponentResource)
                and value.__module__ == module.__name__
            ):
                found[name] = (f"components/{info.name}.py", summary.removeprefix(f"{name}: "))
    return found


def components_table(sources: Sources) -> str:
    """The program's components (types ``samokoder:…``), what each does, and how many each stack has."""
    counts = {stack: sources.synthesis(stack).counts_by_type() for stack in stacks()}
    tokens = sorted({t for c in counts.values() for t in c if _provider(t) == PROVIDERS["samokoder"]})
    modules = _component_modules()
    rows = []
    for token in tokens:
        path, what = modules.get(token.rsplit(":", 1)[-1], ("", ""))
        rows.append(
            (code(token), code(path) if path else "", what, *(str(c.get(token, 0)) for c in counts.values()))
        )
    return table(("component", "module", "what it makes", *counts), rows)


# The stack outputs each stack's synthesis exports.
outputs_table = per_stack(
    ("output",), lambda synthesis: [(code(name),) for name in sorted(synthesis.outputs)]
)
