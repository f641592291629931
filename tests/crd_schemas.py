"""Custom resources checked against the CRDs the operators install (tests/crds/, see its README).

The API server prunes or, with strict field validation, rejects fields a CRD
does not list; a plain JSON-schema check would let a typo through. So every
object schema that lists ``properties`` and does not preserve unknown fields
gets ``additionalProperties: false`` here, as the server would treat it.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from tests.conftest import PROJECT_DIR

CRD_DIR = PROJECT_DIR / "tests" / "crds"
# Kinds we create whose CRD is not vendored under tests/crds/; each says why.
# The writer test checks this list holds exactly the kinds seen. (Empty since
# cert-manager's ClusterIssuer CRD was vendored from its v1.19.1 tag.)
WITHOUT_SCHEMA: dict[tuple[str, str], str] = {}


class _CrdLoader(yaml.CSafeLoader):
    """The prometheus-operator CRDs hold a bare ``=``, which YAML 1.1 reads as the obsolete ``!!value``."""


def _plain_string(loader: yaml.CSafeLoader, node: yaml.Node) -> Any:
    assert isinstance(node, yaml.ScalarNode)
    return loader.construct_scalar(node)


_CrdLoader.add_constructor("tag:yaml.org,2002:value", _plain_string)


def _strict(schema: Any) -> Any:
    if isinstance(schema, dict):
        strict = {key: _strict(value) for key, value in schema.items()}
        if "properties" in strict and not strict.get("x-kubernetes-preserve-unknown-fields"):
            strict.setdefault("additionalProperties", False)
        return strict
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    return schema


@functools.cache
def _schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> strict schema, for every CRD version."""
    if not CRD_DIR.is_dir():
        raise AssertionError(f"CRD schemas not found at {CRD_DIR}")
    schemas = {}
    for path in sorted(CRD_DIR.glob("*.yaml")):
        for crd in yaml.load_all(path.read_text(), Loader=_CrdLoader):
            if not crd:
                continue
            spec = crd["spec"]
            for version in spec["versions"]:
                schema = _strict(version["schema"]["openAPIV3Schema"])
                schemas[(f"{spec['group']}/{version['name']}", spec["names"]["kind"])] = schema
    return schemas


def kind_of(document: dict[str, Any]) -> tuple[str, str]:
    return str(document.get("apiVersion", "")), str(document.get("kind", ""))


def is_custom_resource(manifest: Path) -> bool:
    api_version = str(yaml.safe_load(manifest.read_text())["apiVersion"])
    group = api_version.rpartition("/")[0]
    return "." in group and not group.endswith(".k8s.io")


def crd_problems(document: dict[str, Any]) -> list[str]:
    """Every schema violation of one custom resource; no CRD for its kind is a problem too."""
    key = (document.get("apiVersion", ""), document.get("kind", ""))
    schema = _schemas().get(key)
    if schema is None:
        return [f"no CRD schema for {key[0]} {key[1]} in {CRD_DIR}"]
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '.'}: {e.message}" for e in validator.iter_errors(document)
    ]
