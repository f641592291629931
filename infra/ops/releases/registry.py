"""Does an image digest still exist in the registry? Asked the way `docker pull` would.

Yandex Container Registry speaks the Docker Registry HTTP API v2; an IAM
token authenticates as the password of the user ``iam`` (Yandex Cloud docs,
container-registry/operations/authentication: `docker login --username iam`).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping

import httpx

from infra.ops.releases.safe_http import describe, status

REFERENCE = re.compile(r"(?P<host>[^/]+)/(?P<repository>.+)@(?P<digest>sha256:[0-9a-f]{64})")
MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)


class RegistryError(RuntimeError):
    """The registry could not answer (not the same as "not found")."""


def basic_credentials(iam_token: str) -> str:
    """HTTP Basic's user:password for an IAM token, base64, as the registry and Docker's config take it."""
    return base64.b64encode(f"iam:{iam_token}".encode()).decode()


def manifest_exists(reference: str, iam_token: str, scheme: str = "https", timeout: float = 10) -> bool:
    match = REFERENCE.fullmatch(reference)
    if not match:
        raise ValueError(f"not an image reference by digest: {reference!r}")
    url = f"{scheme}://{match['host']}/v2/{match['repository']}/manifests/{match['digest']}"
    headers = {"Authorization": f"Basic {basic_credentials(iam_token)}", "Accept": MANIFEST_TYPES}
    try:
        code = status(url, method="HEAD", headers=headers, timeout=timeout)
    except httpx.HTTPError as error:  # refused, reset, TLS, DNS, a malformed answer, too many redirects
        raise RegistryError(f"{url}: {describe(error)}") from None
    except OSError as error:  # the overall deadline (safe_http.within)
        raise RegistryError(f"{url}: {error}") from None
    if code in (200, 404):
        return code == 200
    raise RegistryError(f"{url}: HTTP {code}")


def missing_images(images: Mapping[str, str], iam_token: str, scheme: str = "https") -> list[str]:
    return sorted(service for service, ref in images.items() if not manifest_exists(ref, iam_token, scheme))
