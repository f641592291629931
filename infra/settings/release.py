"""Identity and release: the per-stack facts of ``Pulumi.<stack>.yaml``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    Field,
    ValidationInfo,
    model_validator,
)

from infra.conventions import Service
from infra.settings.base import Digest, Hostname, StrictModel, YcId, is_production


class Identity(StrictModel):
    """Where the stack lives; the only per-stack facts besides the release."""

    cloud_id: YcId = Field(description="the cloud")
    folder_id: YcId = Field(description="the folder every resource of the stack is created in")
    domain: Hostname = Field(description="the site's public domain")


class ReleaseImages(StrictModel):
    """Image digests of one release, one per service; all are required."""

    api: Digest = Field(description="the api image")
    worker: Digest = Field(description="the worker image")
    frontend: Digest = Field(description="the frontend image")

    def digest(self, service: Service) -> str:
        return str(getattr(self, service))


# A Kubernetes label value: at most 63 characters, alphanumeric at both ends.
ReleaseId = Annotated[str, Field(pattern=r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$")]
# The Alembic head revision the release's images carry. At most 12 hex digits (Alembic's own
# length; several heads are fingerprinted to 12): it names the backup and the Job, whose names
# and labels Kubernetes caps at 63.
MigrationRevision = Annotated[str, Field(pattern=r"^[0-9a-f]{6,12}$")]


class ImageBuild(StrictModel):
    """Build the images from the app's source checkout instead of using digests (never in production)."""

    context: str = Field(min_length=1, description="path of the app's source checkout")
    # api and worker share one Dockerfile; the frontend has its own.
    backend_dockerfile: str = "Dockerfile"
    frontend_context: str = Field(default="frontend", description="the frontend's directory, in context")
    frontend_dockerfile: str = Field(default="Dockerfile", description="its Dockerfile, in frontend_context")
    platform: Literal["linux/amd64", "linux/arm64"] = Field(
        default="linux/amd64", description="the platform the images are built for"
    )

    @model_validator(mode="after")
    def _not_in_production(self, info: ValidationInfo) -> ImageBuild:
        if is_production(info):
            raise ValueError(
                "a production stack runs released images by digest (release.images), never a build of "
                "a local directory: what that holds is nowhere recorded, reviewed, scanned or signed, "
                "and a rollback has no digest to return to"
            )
        return self


class Release(StrictModel):
    """What runs: a release id and either image digests or a build."""

    id: ReleaseId = Field(description="the release's name (a Kubernetes label value)")
    images: ReleaseImages | None = None
    build: ImageBuild | None = None
    # When it changes, the database is backed up and migrated before the new version rolls.
    migration_revision: MigrationRevision
    # Promote the API without Flagger's analysis (a rollback to a release that proved itself, or a
    # release that must go whole): the Canary's skipAnalysis (infra/render/workloads/canary.py).
    skip_analysis: bool = False

    @model_validator(mode="after")
    def _one_image_source(self) -> Release:
        if (self.images is None) == (self.build is None):
            raise ValueError("set exactly one of 'images' (release digests) or 'build' (source checkout)")
        return self


class ImageScan(StrictModel):
    """What the images' vulnerability scan lets through (`samokoder-infra scan-verdict` in the deploy)."""

    # Trivy's severities (trivy-db pkg/types/types.go:30-45); UNKNOWN ranks below LOW there.
    fail_on: Literal["CRITICAL", "HIGH", "MEDIUM", "LOW"] = Field(
        default="HIGH",
        description="The lowest severity of a finding in the release's images that stops its deploy to "
        "the stack, unless `security/accepted-vulnerabilities.yaml` accepts it (with a reason and an "
        "expiry); Trivy's UNKNOWN ranks below LOW.",
    )
