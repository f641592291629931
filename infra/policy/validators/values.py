"""A Helm release's values wherever they sit: the `values` map and each file of `valueYamlFiles`.

Helm merges the files under the map (pulumi-kubernetes' Release: `valueYamlFiles`,
"List of assets (raw yaml files)... merged and deep-merged with values"), so a
chart's pods get what either says. The files arrive as assets: a
`StringAsset`/`FileAsset` object in the pack (pulumi-policy's deserialize.py
turns the engine's asset struct into one), the same struct as a mapping in
synth's resources.json. Standard library only, so block YAML is read here: the
subset value files are written in (mappings, lists, scalars, block scalars).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from infra.policy.validators.common import ResourceArgs, _helm, _is_list, _mappings

UNREADABLE = object()


def value_trees(args: ResourceArgs) -> Iterator[tuple[str, Any]]:
    """(where, tree) of a Helm release's values map and of each values file (UNREADABLE if unread)."""
    if not _helm(args.resource_type):
        return
    values = args.props.get("values")
    yield "values", values if isinstance(values, Mapping) else {}
    files = args.props.get("valueYamlFiles") or []
    for i, asset in enumerate(files if _is_list(files) else [files]):
        text = _asset_text(asset)
        try:
            tree = UNREADABLE if text is None else read_yaml(text)
        except ValueError:
            # YAML this reader does not follow: refused whole, never judged by the part it read.
            tree = UNREADABLE
        yield f"valueYamlFiles[{i}]", tree


def value_mappings(args: ResourceArgs) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every mapping in every values tree, with its path."""
    for where, tree in value_trees(args):
        if tree is not UNREADABLE:
            yield from _mappings(tree, where)


def leaves(node: Any, keys: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(the keys leading to it, list indices left out; value) of every scalar in a tree."""
    if isinstance(node, Mapping):
        if not node and keys:
            yield keys, None
        for key, value in node.items():
            yield from leaves(value, (*keys, str(key)))
    elif _is_list(node):
        for value in node:
            yield from leaves(value, keys)
    else:
        yield keys, node


def value_leaves(args: ResourceArgs) -> Iterator[tuple[str, tuple[str, ...], Any]]:
    """(where, keys, value) of every scalar in every values tree."""
    for where, tree in value_trees(args):
        if tree is not UNREADABLE:
            for keys, value in leaves(tree):
                yield f"{where}.{'.'.join(keys)}", keys, value


def _asset_text(asset: Any) -> str | None:
    text = getattr(asset, "text", None)
    path = getattr(asset, "path", None)
    if isinstance(asset, Mapping):
        text, path = asset.get("text"), asset.get("path")
    elif isinstance(asset, str):
        text = asset
    if isinstance(text, str):
        return text
    if isinstance(path, str):
        try:
            return Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
    return None


KEY = re.compile(r"""^("[^"]*"|'[^']*'|[^\s#'"][^#]*?)\s*:(?:\s+(.*))?$""")


def read_yaml(text: str) -> Any:
    """A block-YAML document as nested dicts and lists (JSON, which is YAML, as JSON).

    Raises ValueError for what Helm's YAML reader takes and this one does not
    follow (anchors, aliases and merge keys, tags, a flow mapping such as
    `{privileged: true}` or one over several lines) and for any line its
    structure leaves unread: such a file is refused whole, never judged by the
    part read before it (a `hostNetwork: true` after an anchor went unjudged).
    """
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        try:
            return json.loads(stripped)
        except ValueError:
            pass
    lines = []
    for raw in text.splitlines():
        body = raw.rstrip()
        if body.strip() and not body.strip().startswith("#") and body.strip() not in ("---", "..."):
            lines.append((len(body) - len(body.lstrip(" ")), body.strip()))
    node, read = _block(lines, 0, lines[0][0]) if lines else ({}, 0)
    if read < len(lines):
        raise ValueError(f"line {read + 1} of the document's content lies outside its structure")
    return node


def _block(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[Any, int]:
    if lines[i][1].startswith("- ") or lines[i][1] == "-":
        items: list[Any] = []
        while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("-"):
            rest = lines[i][1][1:].strip()
            if not rest:
                item, i = _child(lines, i + 1, indent)
            elif KEY.match(rest) and not rest.startswith(("'", '"')):
                # `- key: value` opens a mapping whose keys line up with the dash's content.
                content = indent + len(lines[i][1]) - len(rest)
                lines[i] = (content, rest)
                item, i = _block(lines, i, content)
            else:
                item, i = _scalar(rest), i + 1
            items.append(item)
        return items, i
    mapping: dict[str, Any] = {}
    while i < len(lines) and lines[i][0] == indent and not lines[i][1].startswith("- "):
        match = KEY.match(lines[i][1])
        key, rest = (match[1].strip("'\""), (match[2] or "").strip()) if match else (lines[i][1], "")
        if rest in ("|", ">", "|-", ">-", "|+", ">+"):
            end = i + 1
            while end < len(lines) and lines[end][0] > indent:
                end += 1
            mapping[key] = "\n".join(body for _, body in lines[i + 1 : end])
            i = end
        elif rest and not rest.startswith("#"):
            mapping[key], i = _scalar(rest), i + 1
        else:
            mapping[key], i = _child(lines, i + 1, indent, same_indent_list=True)
    return mapping, i


def _child(
    lines: list[tuple[int, str]], i: int, indent: int, same_indent_list: bool = False
) -> tuple[Any, int]:
    if i < len(lines) and (
        lines[i][0] > indent or (same_indent_list and lines[i][0] == indent and lines[i][1].startswith("- "))
    ):
        return _block(lines, i, lines[i][0])
    return None, i


# YAML 1.1's words for true, false and null, as Helm's Go YAML reads them.
WORDS: dict[str, Any] = {
    **dict.fromkeys(("true", "yes", "on"), True),
    **dict.fromkeys(("false", "no", "off"), False),
    **dict.fromkeys(("null", "~"), None),
}


def _scalar(text: str) -> Any:
    if text[:1] in ("'", '"') and (end := text.find(text[0], 1)) > 0:
        return text[1:end]
    text = re.sub(r"\s+#.*$", "", text)
    if text.lower() in WORDS:
        return WORDS[text.lower()]
    if re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    if text[:1] not in ("&", "*", "!", "|", ">", "{", "["):
        return text
    with contextlib.suppress(ValueError):
        return json.loads(text)
    # A one-line list of plain scalars; an anchor, alias or tagged item is refused as one.
    if text.startswith("[") and text.endswith("]") and not re.search(r"[\[\]{}]", text[1:-1]):
        return [_scalar(item.strip()) for item in text[1:-1].split(",") if item.strip()]
    raise ValueError(f"YAML this reader does not follow: {text[:20]!r}")
