"""Registry under Pulumi mocks: one repository per image, pulls for nodes, images by digest."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from infra.ops.synth.runner import Synthesis, synthesize
from tests.conftest import DELETE, STACKS, stack_file_values, with_changes, write_project

Synth = Callable[[str], Synthesis]
REFERENCE = re.compile(r"cr\.yandex/(?P<registry>crp[0-9a-f]{17})/(?P<repo>[a-z]+)@sha256:[0-9a-f]{64}")


@pytest.mark.parametrize("stack", STACKS)
def test_every_image_reference_is_a_digest_in_this_stacks_registry(synthesized: Synth, stack: str) -> None:
    synthesis = synthesized(stack)
    (registry,) = synthesis.of_type("yandex:index/containerRegistry:ContainerRegistry")
    images = synthesis.outputs["images"]
    assert sorted(images) == ["api", "frontend", "worker"]
    for service, reference in images.items():
        match = REFERENCE.fullmatch(reference)
        assert match, reference
        assert match["registry"] == synthesis.id_of(registry), reference
        assert match["repo"] == service, reference


@pytest.mark.parametrize("stack", STACKS)
def test_the_deployed_digests_are_the_releases(synthesized: Synth, stack: str) -> None:
    digests = stack_file_values(stack)["release"]["images"]
    images = synthesized(stack).outputs["images"]
    assert {s: ref.split("@", 1)[1] for s, ref in images.items()} == digests


@pytest.mark.parametrize("stack", STACKS)
def test_there_is_one_repository_per_image(synthesized: Synth, stack: str) -> None:
    repositories = synthesized(stack).of_type("yandex:index/containerRepository:ContainerRepository")
    assert sorted(r.inputs["name"].rsplit("/", 1)[1] for r in repositories) == ["api", "frontend", "worker"]


@pytest.mark.parametrize("stack", STACKS)
def test_only_the_node_service_account_may_pull(synthesized: Synth, stack: str) -> None:
    synthesis = synthesized(stack)
    (binding,) = synthesis.of_type("yandex:index/containerRegistryIamBinding:ContainerRegistryIamBinding")
    nodes = [
        a
        for a in synthesis.of_type("yandex:index/iamServiceAccount:IamServiceAccount")
        if a.name.endswith("-nodes")
    ]
    assert binding.inputs["role"] == "container-registry.images.puller"
    assert binding.inputs["members"] == [f"serviceAccount:{synthesis.id_of(nodes[0])}"]


def test_a_build_pushes_each_image_and_deploys_the_pushed_digest(tmp_path: Path) -> None:
    config = with_changes(
        stack_file_values("staging"),
        {
            "release.images": DELETE,
            "release.build": {"context": "/src/samokoder"},
        },
    )
    synthesis = synthesize("staging", write_project(tmp_path, "staging", config))
    builds = {b.name: b.inputs for b in synthesis.of_type("docker:index/image:Image")}
    assert sorted(builds) == ["registry-api", "registry-frontend", "registry-worker"]
    # api and worker share one Dockerfile; the frontend has its own.
    assert builds["registry-api"]["build"]["dockerfile"] == "/src/samokoder/Dockerfile"
    assert builds["registry-worker"]["build"]["dockerfile"] == "/src/samokoder/Dockerfile"
    assert builds["registry-frontend"]["build"]["context"] == "/src/samokoder/frontend"
    for service, reference in synthesis.outputs["images"].items():
        assert REFERENCE.fullmatch(reference), (service, reference)
        assert ":" + config["release"]["id"] not in reference, reference
