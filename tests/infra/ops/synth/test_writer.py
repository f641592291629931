"""build/<stack>/ as written by `samokoder-infra synth`, checked by the real tools."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import PROJECT_DIR, STACKS, load_json
from tests.crd_schemas import WITHOUT_SCHEMA, crd_problems, is_custom_resource, kind_of

CLI = [sys.executable, "-m", "infra.ops.cli"]
# Installed with the dev extras next to this interpreter; missing it is a failure.
KUBERNETES_VALIDATE = str(Path(sys.executable).parent / "kubernetes-validate")


def synth(stack: str, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "synth", stack, "--out", str(out)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("build")
    for stack in STACKS:
        result = synth(stack, root / stack)
        assert result.returncode == 0, result.stderr
    return {stack: root / stack for stack in STACKS}


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("stack", STACKS)
def test_every_custom_resource_validates_against_its_crd(builds: dict[str, Path], stack: str) -> None:
    custom = [p for p in sorted((builds[stack] / "k8s").rglob("*.yaml")) if is_custom_resource(p)]
    assert custom, "synth wrote no custom resource"
    documents = {str(p.relative_to(builds[stack])): yaml.safe_load(p.read_text()) for p in custom}
    unvalidated = {kind_of(d) for d in documents.values()} & set(WITHOUT_SCHEMA)
    assert unvalidated == set(WITHOUT_SCHEMA), "WITHOUT_SCHEMA names a kind synth no longer writes"
    problems = {
        name: crd_problems(document)
        for name, document in documents.items()
        if kind_of(document) not in WITHOUT_SCHEMA
    }
    assert not {name: errors for name, errors in problems.items() if errors}


@pytest.mark.parametrize("stack", STACKS)
def test_two_runs_are_byte_identical(builds: dict[str, Path], stack: str, tmp_path: Path) -> None:
    assert synth(stack, tmp_path / "again").returncode == 0
    assert tree(tmp_path / "again") == tree(builds[stack])


@pytest.mark.parametrize("stack", STACKS)
def test_resources_json_lists_type_name_parent_and_inputs(builds: dict[str, Path], stack: str) -> None:
    resources = load_json(builds[stack] / "resources.json")
    assert len(resources) > 20
    for resource in resources:
        assert {"type", "name", "parent", "inputs", "urn", "provider", "protect"} <= set(resource)


@pytest.mark.tool
@pytest.mark.parametrize("stack", STACKS)
def test_every_builtin_kubernetes_manifest_is_valid_for_kubernetes_1_30(
    builds: dict[str, Path], stack: str
) -> None:
    # Custom resources are checked against their CRDs (tests/crd_schemas.py):
    # kubernetes-validate passes them with only a warning.
    manifests = [p for p in sorted((builds[stack] / "k8s").rglob("*.yaml")) if not is_custom_resource(p)]
    assert manifests, "synth wrote no Kubernetes manifest"
    result = subprocess.run(
        [KUBERNETES_VALIDATE, "--strict", "-k", "1.30.0", *map(str, manifests)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" passed for resource ") == len(manifests), result.stdout


def test_invalid_config_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    result = subprocess.run(
        [*CLI, "synth", "nosuchstack", "--out", str(tmp_path / "out")],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Pulumi.nosuchstack.yaml: (file): no such stack file; known stacks: prod, staging" in result.stderr
    assert not (tmp_path / "out").exists()


def test_synth_prints_resources_by_type_and_warnings(tmp_path: Path) -> None:
    result = synth("prod", tmp_path / "prod")
    assert "yandex:index/kubernetesNodeGroup:KubernetesNodeGroup" in result.stdout
    # The committed stack file has no provided secret: synth says what `up` would need.
    assert "warnings: 5" in result.stdout
    assert "samokoder:secrets.pagerduty_routing_key is not set" in result.stdout
