"""Inputs of a shape no engine writes: `check --resources` and the release record say so in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.ops.releases.record import RecordError, read_release
from tests.cli_runner import samokoder_infra
from tests.conftest import PROJECT_DIR

URN = "urn:pulumi:staging::samokoder::kubernetes:{}::odd"


def resource(kind: str, inputs: dict[str, object]) -> dict[str, object]:
    return {
        "urn": URN.format(kind),
        "type": f"kubernetes:{kind}",
        "name": "odd",
        "custom": True,
        "inputs": inputs,
    }


@pytest.mark.parametrize(
    "entry",
    [
        resource("core/v1:ConfigMap", {"apiVersion": "v1", "kind": "ConfigMap", "data": "a string"}),
        resource("apps/v1:Deployment", {"apiVersion": "apps/v1", "kind": "Deployment", "spec": "a string"}),
        resource(
            "rbac.authorization.k8s.io/v1:ClusterRoleBinding",
            {"kind": "ClusterRoleBinding", "subjects": 7, "roleRef": {"name": "view"}},
        ),
    ],
    ids=["configmap data", "deployment spec", "binding subjects"],
)
def test_check_names_the_resource_whose_inputs_no_policy_can_read(
    tmp_path: Path, entry: dict[str, object]
) -> None:
    path = tmp_path / "resources.json"
    path.write_text(json.dumps([entry]))
    result = samokoder_infra(PROJECT_DIR, "check", "staging", "--resources", str(path))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    # A resource policy names the resource; a stack-wide one can only name the stack.
    assert line.startswith((f"check: {path}: {entry['urn']}: ", f"check: {path}: the stack: "))
    assert "inputs of a shape " in line


def test_a_release_record_without_its_id_is_refused_by_name() -> None:
    text = "config:\n  samokoder:release:\n    images:\n      api: sha256:" + "a" * 64 + "\n"
    with pytest.raises(RecordError, match="no release id"):
        read_release(text)
