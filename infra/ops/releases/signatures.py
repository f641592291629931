"""Is each image signed, and its SBOM attested, by this repository's build on main? cosign answers.

The build (main.yml's `images` job) signs each image by digest keylessly with cosign v3.0.6 and
attests its CycloneDX SBOM, in the repository it pushed to: staging's registry. cosign v3 stores
both as OCI 1.1 referrers of the image's digest in that repository (`--new-bundle-format` is on by
default: cmd/cosign/cli/options/sign.go:155, attest.go:125; the bundle is a manifest whose
``subject`` is the image, pkg/oci/remote/write.go:319-399), and `cosign verify` reads them there
(pkg/cosign/verify.go:1670-1687). `skopeo copy` copies the image, not its referrers (skopeo issue
#1994, open), so a copy in another stack's registry carries no signature: an image is verified in
the registry the build pushed it to, by the same digest.

What is accepted: a certificate for main.yml of this repository on refs/heads/main, issued by
GitHub's OIDC issuer (cosign v3.0.6 doc/cosign_verify.md:88-90; README.md:190-195 names the
identity a GitHub workflow signs as). One definition for the deploy and the rollback.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from infra.ops.releases.registry import basic_credentials

ISSUER = "https://token.actions.githubusercontent.com"
# The workflow that signs, on the ref it signs from (main.yml runs on pushes to main only).
SIGNER = ".github/workflows/main.yml@refs/heads/main"
# The kind of the SBOM the build attests (main.yml: cosign attest --type cyclonedx).
ATTESTATION = "cyclonedx"

Run = Callable[..., "subprocess.CompletedProcess[str]"]


class SignatureError(RuntimeError):
    """The signatures could not be checked at all (no cosign, no repository to expect)."""


def signer_identity(environ: Mapping[str, str]) -> str:
    """The certificate identity the build signs as: GitHub's URL of this repository's main.yml on main.

    GitHub sets GITHUB_SERVER_URL and GITHUB_REPOSITORY in every job; an operator sets
    GITHUB_REPOSITORY (owner/name) by hand."""
    repository = environ.get("GITHUB_REPOSITORY", "")
    if repository.count("/") != 1 or not all(repository.split("/")):
        raise SignatureError(
            "GITHUB_REPOSITORY is not set to owner/name: the repository whose main.yml signs the images"
        )
    server = environ.get("GITHUB_SERVER_URL") or "https://github.com"
    return f"{server.rstrip('/')}/{repository}/{SIGNER}"


def cosign_checks(reference: str, identity: str) -> list[list[str]]:
    """The signature, then the SBOM's attestation, of one image by digest."""
    bound = ["--certificate-identity", identity, "--certificate-oidc-issuer", ISSUER]
    return [
        ["cosign", "verify", *bound, reference],
        ["cosign", "verify-attestation", "--type", ATTESTATION, *bound, reference],
    ]


def _docker_config(directory: Path, hosts: Sequence[str], iam_token: str) -> None:
    # cosign reads registry credentials from $DOCKER_CONFIG/config.json (go-containerregistry
    # pkg/authn/keychain.go:102-117 at v0.21.3). A file, not an argument: no token in `ps`.
    auth = basic_credentials(iam_token)
    path = directory / "config.json"
    path.write_text(json.dumps({"auths": {host: {"auth": auth} for host in sorted(set(hosts))}}))
    path.chmod(0o600)


def unverified(
    references: Mapping[str, str], identity: str, iam_token: str, run: Run = subprocess.run
) -> list[str]:
    """``references``: service -> host/repository@digest. Each failed check, as "service: cosign's
    reason"; empty when every image is signed and attested by ``identity``."""
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="cosign-") as directory:
        _docker_config(Path(directory), [ref.split("/", 1)[0] for ref in references.values()], iam_token)
        environment = {**os.environ, "DOCKER_CONFIG": directory}
        for service, reference in sorted(references.items()):
            for command in cosign_checks(reference, identity):
                try:
                    done = run(command, env=environment, capture_output=True, text=True, check=False)
                except FileNotFoundError:
                    raise SignatureError("cosign is not on PATH: install v3.0.6, the build's") from None
                if done.returncode != 0:
                    reason = (done.stderr.strip().splitlines() or ["no reason given"])[-1]
                    failed.append(f"{service}: {command[1]} {reference}: {reason}")
    return failed
