"""The offline diff's comparison: paths, changed inputs, ignored inputs, secrets; and its reports."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra.ops.synth.diff import Change, diff_builds, diff_resources, format_path, show
from infra.ops.synth.diff_report import markdown, text
from infra.ops.synth.runner import Synthesis
from infra.ops.synth.writer import write_synthesis

Synth = Callable[[str], Synthesis]


def _resource(urn: str, type_: str, inputs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "urn": urn,
        "type": type_,
        "name": urn,
        "parent": "p",
        "protect": False,
        "inputs": inputs,
        **extra,
    }


def _deployment(image: str = "cr.yandex/r/api@sha256:1", name: str = "api") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "samokoder", "labels": {"app.kubernetes.io/name": "api"}},
        "spec": {
            "replicas": 1.0,
            "selector": {"matchLabels": {"app": "api"}},
            "template": {"spec": {"containers": [{"name": "api", "image": image}]}},
        },
    }


def test_paths_read_as_a_reader_writes_them() -> None:
    assert format_path(("spec", "template", "spec", "containers", 0, "image")) == (
        "spec.template.spec.containers[0].image"
    )
    assert format_path(("metadata", "labels", "app.kubernetes.io/name")) == (
        'metadata.labels["app.kubernetes.io/name"]'
    )


def test_an_image_change_is_a_change_at_its_path_and_whole_floats_equal_ints() -> None:
    base = [_resource("d", "kubernetes:apps/v1:Deployment", _deployment())]
    head = copy.deepcopy(base)
    head[0]["inputs"]["spec"]["template"]["spec"]["containers"][0]["image"] = "cr.yandex/r/api@sha256:2"
    head[0]["inputs"]["spec"]["replicas"] = 1  # written as an int by a newer synth: the same value
    (change,) = diff_resources(base, head)
    assert change.action == "changed"
    assert [c.where for c in change.changes] == ["spec.template.spec.containers[0].image"]
    assert change.changes[0].values() == '"cr.yandex/r/api@sha256:1" -> "cr.yandex/r/api@sha256:2"'


def test_every_changed_input_is_listed_and_none_is_judged_an_update_or_a_replacement() -> None:
    config_map = {"kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}, "data": {"a": "1"}}
    subnet = {"zone": "ru-central1-a", "folderId": "f", "labels": {"env": "staging"}}
    base = [
        _resource("c", "kubernetes:core/v1:ConfigMap", config_map),
        _resource("d", "kubernetes:apps/v1:Deployment", _deployment()),
        _resource("s", "yandex:index/vpcSubnet:VpcSubnet", subnet),
    ]
    head = copy.deepcopy(base)
    head[0]["inputs"]["data"]["a"] = "2"
    head[1]["inputs"]["metadata"]["name"] = "api-2"
    head[1]["inputs"]["spec"]["selector"]["matchLabels"]["tier"] = "web"
    head[2]["inputs"]["zone"] = "ru-central1-b"
    head[2]["inputs"]["labels"]["env"] = "prod"
    found = {c.urn: (c.action, [x.where for x in c.changes]) for c in diff_resources(base, head)}
    assert found == {
        "c": ("changed", ["data.a"]),
        "d": ("changed", ["metadata.name", "spec.selector.matchLabels.tier"]),
        "s": ("changed", ["labels.env", "zone"]),
    }


def test_a_changed_api_version_is_a_new_urn_so_the_old_is_removed_and_the_new_added() -> None:
    old_pdb = _resource("old", "kubernetes:policy/v1beta1:PodDisruptionBudget", {"spec": {}}, name="pdb")
    new_pdb = _resource("new", "kubernetes:policy/v1:PodDisruptionBudget", {"spec": {}}, name="pdb")
    base = [old_pdb, _resource("gone", "yandex:index/vpcNetwork:VpcNetwork", {})]
    head = [new_pdb, _resource("born", "yandex:index/vpcNetwork:VpcNetwork", {})]
    found = {c.urn: c.action for c in diff_resources(base, head)}
    assert found == {"old": "removed", "new": "added", "gone": "removed", "born": "added"}


def test_ignored_inputs_are_left_out_as_an_update_leaves_them() -> None:
    job = {"kind": "Job", "metadata": {"name": "migrate", "namespace": "n"}, "spec": {"template": {"a": 1}}}
    base = [_resource("j", "kubernetes:batch/v1:Job", job, ignore_changes=["spec"])]
    head = copy.deepcopy(base)
    head[0]["inputs"]["spec"]["template"]["a"] = 2
    assert diff_resources(base, head) == []
    head[0]["protect"] = True
    (change,) = diff_resources(base, head)
    assert (change.action, [c.where for c in change.changes]) == ("changed", ["(protect)"])


def test_a_secret_is_never_shown_and_long_texts_show_the_part_that_differs() -> None:
    assert Change(("data", "password"), "[secret]", "plain").values() == '[secret] -> "plain"'
    assert show("[secret]") == "[secret]"
    expr = "sum(rate(samokoder_auth_failures_total[5m])) / sum(rate(samokoder_auth_total[5m])) * 100 > {}"
    values = Change(("expr",), expr.format(30), expr.format(35)).values()
    assert values == '"…[5m])) * 100 > 30" -> "…[5m])) * 100 > 35"'


def test_a_real_build_with_a_changed_image_and_zone(synthesized: Synth, tmp_path: Path) -> None:
    write_synthesis(synthesized("staging"), tmp_path / "base")
    write_synthesis(synthesized("staging"), tmp_path / "head")
    assert diff_builds("staging", tmp_path / "base", tmp_path / "head").empty
    path = tmp_path / "head" / "resources.json"
    resources = json.loads(path.read_text())
    deployment = next(r for r in resources if r["type"] == "kubernetes:apps/v1:Deployment")
    deployment["inputs"]["spec"]["template"]["spec"]["containers"][0]["image"] += "0"
    subnet = next(r for r in resources if r["type"] == "yandex:index/vpcSubnet:VpcSubnet")
    zone, subnet["inputs"]["zone"] = subnet["inputs"]["zone"], "ru-central1-d"
    path.write_text(json.dumps(resources))
    diff = diff_builds("staging", tmp_path / "base", tmp_path / "head")
    assert {(c.type, c.action) for c in diff.resources} == {
        ("kubernetes:apps/v1:Deployment", "changed"),
        ("yandex:index/vpcSubnet:VpcSubnet", "changed"),
    }
    assert diff.unchanged == len(resources) - 2
    report = text([diff], "`main`")
    assert "~  change  kubernetes:apps/v1:Deployment" in report
    assert "        spec.template.spec.containers[0].image: " in report
    assert f'        zone: "{zone}" -> "ru-central1-d"' in report
    # No report guesses a replacement (Pulumi's `+-`): it names the preview as the one that tells.
    assert "+-" not in report
    assert "`pulumi preview`" in report
    comment = markdown([diff], "`main`")
    assert "| change | `" in comment
    assert "2 to change, 0 to add, 0 to remove" in comment
    assert "`pulumi preview`" in comment
