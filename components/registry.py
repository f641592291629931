"""Registry: Yandex Container Registry, a repository per image, and the images by digest.

Image pulls are granted on this registry only, to the cluster's nodes. Images
are the release's digests from config, or built from the app's source checkout
and pushed with pulumi-docker; either way the output per service is
``cr.yandex/<registry id>/<service>@sha256:<digest>``, never a tag.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_yandex as yandex

from components.kms import member
from components.kube import Component
from infra.conventions import REGISTRY_HOST, SERVICES, Naming, Service, image_reference
from infra.settings.release import ImageBuild, Release

PULLER_ROLE = "container-registry.images.puller"


@dataclass(frozen=True)
class RegistryArgs:
    naming: Naming
    folder_id: str
    release: Release
    # Service accounts that may pull images (the cluster's nodes).
    pullers: Sequence[pulumi.Input[str]]


class Registry(Component):
    registry_id: pulumi.Output[str]
    images: dict[Service, pulumi.Output[str]]

    def __init__(self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("samokoder:registry:Registry", name, None, opts)
        self._name = name

        registry = yandex.ContainerRegistry(
            name,
            name=args.naming.cloud("registry"),
            folder_id=args.folder_id,
            labels=args.naming.cloud_labels("registry"),
            opts=self.opts(),
        )
        self.registry_id = registry.id
        repositories = {
            service: yandex.ContainerRepository(
                f"{name}-{service}",
                name=pulumi.Output.concat(registry.id, "/", service),
                opts=self.opts(),
            )
            for service in SERVICES
        }
        yandex.ContainerRegistryIamBinding(
            f"{name}-pullers",
            registry_id=registry.id,
            role=PULLER_ROLE,
            members=[member(sa) for sa in args.pullers],
            opts=self.opts(),
        )

        release = args.release
        if release.images is not None:
            self.images = {
                service: _by_digest(registry.id, service, release.images.digest(service))
                for service in SERVICES
            }
        else:
            assert release.build is not None  # Release allows exactly one source
            self.images = {
                service: self._build(service, release.id, release.build, registry, repositories[service])
                for service in SERVICES
            }
        self.outputs("registry_id", "images")

    def _build(
        self,
        service: Service,
        release_id: str,
        build: ImageBuild,
        registry: yandex.ContainerRegistry,
        repository: yandex.ContainerRepository,
    ) -> pulumi.Output[str]:
        source = Path(build.context)
        if service == "frontend":
            context, dockerfile = source / build.frontend_context, build.frontend_dockerfile
        else:
            context, dockerfile = source, build.backend_dockerfile
        # Only a build needs the Docker SDK: a release by digest (every deploy from CI,
        # and synth) does not pay for importing it.
        import pulumi_docker as docker  # noqa: PLC0415

        # The tag only names the push; what is deployed is the digest it produced.
        image = docker.Image(
            f"{self._name}-{service}",
            image_name=pulumi.Output.concat(REGISTRY_HOST, "/", registry.id, "/", service, ":", release_id),
            build=docker.DockerBuildArgs(
                context=str(context), dockerfile=str(context / dockerfile), platform=build.platform
            ),
            opts=self.opts(repository),
        )
        return image.repo_digest.apply(_require_digest)


def _by_digest(registry_id: pulumi.Output[str], service: Service, digest: str) -> pulumi.Output[str]:
    return registry_id.apply(lambda rid: image_reference(rid, service, digest))


def _require_digest(reference: str) -> str:
    if "@sha256:" not in reference:
        raise ValueError(f"pushed image has no digest reference: {reference!r}")
    return reference
