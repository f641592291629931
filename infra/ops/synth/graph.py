"""A picture of a stack: its resources in Graphviz's DOT language.

- every resource of `resources.json` is a node whose id is its URN, the root
  stack and each component included, so a reader (or a test) finds each one;
- each component (a ComponentResource) is a cluster holding its children,
  nested as the parent links nest: parent links are drawn as clusters, not
  as edges;
- edges are the `dependencies` field (explicit `depends_on` and the resources
  whose outputs feed an input), drawn from a resource to what depends on it,
  transitively reduced: A -> C is left out when A -> B -> C is drawn, since
  the full field has about six times as many edges and no more order.
  Provider links (every Kubernetes object uses the cluster's provider) are
  not drawn either.

Pure text in, text out, sorted by URN: the same resources give the same
bytes. `marks` colours resources by what a change does to them (the diff).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from graphlib import TopologicalSorter
from typing import Any

STACK_TYPE = "pulumi:pulumi:Stack"

# Fill colours by provider family, so a glance tells cloud from cluster objects.
_FAMILY_COLOURS = (
    ("kubernetes:helm.sh/", "#d7ecd9"),
    ("kubernetes:", "#dbe7f7"),
    ("yandex:", "#fdf0c8"),
    ("pulumi:providers:", "#eeeeee"),
    ("random:", "#f2e1f0"),
    # Lockbox secrets and the egress gateway (pulumi-python:dynamic…).
    ("pulumi-python:dynamic", "#fde2cf"),
)
# What a change does, as the diff marks it: fill and border.
MARK_STYLES = {
    "added": ('"#b7e4b0"', '"#2e7d32"'),
    "changed": ('"#ffe08a"', '"#b26a00"'),
    "removed": ('"#f4c7c3"', '"#c62828"'),
}

Resource = Mapping[str, Any]


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def short_type(type_: str) -> str:
    """`kubernetes:apps/v1:Deployment` -> `Deployment`; a provider -> `provider kubernetes`."""
    if type_.startswith("pulumi:providers:"):
        return "provider " + type_.rsplit(":", 1)[-1]
    return type_.rsplit(":", 1)[-1]


def reduced_edges(resources: Sequence[Resource]) -> list[tuple[str, str]]:
    """(dependency, dependent) pairs of the `dependencies` field, transitively reduced."""
    known = {r["urn"] for r in resources}
    needs = {r["urn"]: sorted(set(r.get("dependencies", [])) & known - {r["urn"]}) for r in resources}
    # Everything each resource needs, directly or not, computed dependencies first.
    reach: dict[str, set[str]] = {}
    for urn in TopologicalSorter(needs).static_order():
        reach[urn] = set(needs[urn]).union(*(reach[d] for d in needs[urn]))
    edges = []
    for urn, direct in needs.items():
        # A direct dependency also reached through another one adds no order.
        implied = set().union(*(reach[d] for d in direct))
        edges += [(dependency, urn) for dependency in direct if dependency not in implied]
    return sorted(edges)


def _node(resource: Resource, marks: Mapping[str, str], indent: str) -> str:
    type_, urn = resource["type"], resource["urn"]
    attributes = {"label": quote(f"{short_type(type_)}\n{resource['name']}"), "tooltip": quote(type_)}
    if type_ == STACK_TYPE:
        attributes |= {"shape": "doubleoctagon", "fillcolor": '"#ffffff"'}
    elif not resource.get("custom", True):
        attributes |= {"shape": "tab", "fillcolor": '"#ffffff"'}
    else:
        fill = next((colour for prefix, colour in _FAMILY_COLOURS if type_.startswith(prefix)), "#ffffff")
        attributes["fillcolor"] = quote(fill)
    if urn in marks:
        fill, border = MARK_STYLES[marks[urn]]
        attributes |= {"fillcolor": fill, "color": border, "penwidth": "2.5"}
        attributes["label"] = quote(f"{marks[urn]}: {short_type(type_)}\n{resource['name']}")
        if marks[urn] == "removed":
            attributes["style"] = '"rounded,filled,dashed"'
    listed = " ".join(f"{key}={value}" for key, value in attributes.items())
    return f"{indent}{quote(urn)} [{listed}];"


def _members(
    members: Iterable[Resource], children: Mapping[str, list[Resource]], marks: Mapping[str, str], indent: str
) -> list[str]:
    """Each resource a node; a component a cluster of itself and its children, nested."""
    lines = []
    for resource in members:
        urn = resource["urn"]
        if urn not in children:
            lines.append(_node(resource, marks, indent))
            continue
        label = f"{short_type(resource['type'])} {resource['name']}"
        lines += [
            f"{indent}subgraph {quote('cluster_' + urn)} {{",
            f"{indent}  label={quote(label)};",
            _node(resource, marks, indent + "  "),
            *_members(children[urn], children, marks, indent + "  "),
            f"{indent}}}",
        ]
    return lines


def to_dot(resources: Sequence[Resource], title: str, marks: Mapping[str, str] | None = None) -> str:
    """The DOT source of the stack's picture; `marks` maps URNs to a change (see MARK_STYLES)."""
    marks = marks or {}
    ordered = sorted(resources, key=lambda r: r["urn"])
    urns = {r["urn"] for r in ordered}
    root = next((r["urn"] for r in ordered if r["type"] == STACK_TYPE), "")
    children: dict[str, list[Resource]] = {}
    for resource in ordered:
        # Only components hold others; a parent missing from the build is drawn at the top.
        if resource.get("parent") in urns and resource["parent"] != root:
            children.setdefault(resource["parent"], []).append(resource)
    top = [r for r in ordered if r["urn"] not in {c["urn"] for cs in children.values() for c in cs}]
    lines = [
        "digraph stack {",
        f"  label={quote(title)};",
        '  labelloc="t"; rankdir="LR"; newrank=true; ranksep="0.6"; nodesep="0.15";',
        '  graph [fontname="Helvetica" fontsize=16];',
        '  node [shape=box style="rounded,filled" fontname="Helvetica" fontsize=10];',
        '  edge [color="#777777" arrowsize=0.6];',
        *_members(top, children, marks, "  "),
        *(f"  {quote(a)} -> {quote(b)};" for a, b in reduced_edges(ordered)),
        "}",
    ]
    return "\n".join(lines) + "\n"
