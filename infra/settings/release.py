"""Identity and release: the per-stack facts of ``Pulumi.<stack>.yaml``."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    model_validator,
)

from infra.conventions import Service
from infra.settings.base import Digest, Hostname, StrictModel, YcId


class Identity(StrictModel):
    """Where the stack lives; the only per-stack facts besides the release."""

    cloud_id: YcId
    folder_id: YcId
    domain: Hostname


class ReleaseImages(StrictModel):
    """Image digests of one release, one per service; all are required."""

    api: Digest
    worker: Digest
    frontend: Digest

    def digest(self, service: Service) -> str:
        return str(getattr(self, service))


class ImageBuild(StrictModel):
    """Build the images from the app's source checkout instead of using digests."""

    context: str = Field(min_length=1, description="path of the app's source checkout")
    # api and worker share one Dockerfile; the frontend has its own.
    backend_dockerfile: str = "Dockerfile"
    frontend_context: str = "frontend"
    frontend_dockerfile: str = "Dockerfile"
    platform: Literal["linux/amd64", "linux/arm64"] = "linux/amd64"


class Release(StrictModel):
    """What runs: a release id and either image digests or a build."""

    # A Kubernetes label value: at most 63 characters, alphanumeric at both ends.
    id: str = Field(pattern=r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$")
    images: ReleaseImages | None = None
    build: ImageBuild | None = None
    # The Alembic head revision the release's images carry. When it changes,
    # the database is backed up and migrated before the new version rolls.
    # At most 12 hex digits (Alembic's own length; several heads are fingerprinted to 12):
    # it names the backup and the Job, whose names and labels Kubernetes caps at 63.
    migration_revision: str = Field(pattern=r"^[0-9a-f]{6,12}$")

    @model_validator(mode="after")
    def _one_image_source(self) -> Release:
        if (self.images is None) == (self.build is None):
            raise ValueError("set exactly one of 'images' (release digests) or 'build' (source checkout)")
        return self
