"""`verify-images`: every image signed, and its SBOM attested, by this repository's build on main.

The deploy runs it before it copies a release's images (deploy-stack.yml), and `rollback` runs
the same check on the release it goes back to (``require_signed``): one definition of what is
accepted, infra/ops/releases/signatures.py.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Mapping
from pathlib import Path

from infra.ops.cli.common import EXIT_FAILED, EXIT_OK, Commands, Failure

REGISTRY = re.compile(r"[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+")
IMAGE = re.compile(r"(?P<service>[a-z][a-z0-9-]*)=(?P<digest>sha256:[0-9a-f]{64})")


def register(commands: Commands) -> None:
    parser = commands.add_parser(
        "verify-images",
        help="check each image's cosign signature and SBOM attestation in the registry the build pushed to",
        description=(
            "For each SERVICE=DIGEST, run cosign verify and cosign verify-attestation --type cyclonedx on "
            "REGISTRY/SERVICE@DIGEST, accepting only a certificate for .github/workflows/main.yml of "
            "GITHUB_REPOSITORY on refs/heads/main issued by GitHub's OIDC issuer. REGISTRY is where the "
            "build pushed and signed them (staging's, cr.yandex/<id>): a copy elsewhere has no signature. "
            "Exit 0 when every check passes, 1 naming each that failed."
        ),
    )
    parser.add_argument("registry", metavar="REGISTRY", type=registry, help="cr.yandex/<registry id>")
    parser.add_argument("images", nargs="+", metavar="SERVICE=DIGEST", type=image, help="e.g. api=sha256:...")
    parser.add_argument(
        "--key-file",
        type=Path,
        metavar="FILE",
        help="a service account key that can pull from REGISTRY (default: the environment's token source)",
    )
    parser.set_defaults(handler=run)


def registry(text: str) -> str:
    if not REGISTRY.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text[:60]!r} is not a registry such as cr.yandex/<id>")
    return text


def image(text: str) -> tuple[str, str]:
    match = IMAGE.fullmatch(text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text[:80]!r} is not SERVICE=sha256:<64 hex digits>")
    return match["service"], match["digest"]


def require_signed(command: str, source: str, images: Mapping[str, str], key_file: Path | None) -> None:
    """Each service's image by digest in ``source``, signed and attested by the build, or a Failure
    (exit 1) naming each one that is not."""
    from infra.ops.releases.signatures import SignatureError, signer_identity, unverified  # noqa: PLC0415
    from infra.providers.yandex.connection import Connection, ConnectionError_  # noqa: PLC0415

    connection = (
        Connection("environment")
        if key_file is None
        else Connection("service_account_key_file", str(key_file))
    )
    try:
        token = connection.iam_token().token
    except ConnectionError_ as error:
        raise Failure(f"{command}: no IAM token to read {source} with: {error}", EXIT_FAILED) from None
    references = {service: f"{source}/{service}@{digest}" for service, digest in images.items()}
    try:
        failed = unverified(references, signer_identity(os.environ), token)
    except SignatureError as error:
        raise Failure(f"{command}: the signatures cannot be checked: {error}", EXIT_FAILED) from None
    if failed:
        listed = "\n".join(f"  {line}" for line in failed)
        raise Failure(
            f"{command}: refused: not signed and attested by this repository's main.yml on main in "
            f"{source} (the registry the build pushed to holds the signatures; a copy holds none):\n{listed}",
            EXIT_FAILED,
        )
    print(f"{command}: {', '.join(sorted(references))} signed and attested by the build, in {source}")


def run(args: argparse.Namespace) -> int:
    images = dict(args.images)
    if len(images) != len(args.images):
        twice = sorted({s for s, _ in args.images if [n for n, _ in args.images].count(s) > 1})
        raise Failure(f"verify-images: {', '.join(twice)} named twice")
    require_signed("verify-images", args.registry, images, args.key_file)
    return EXIT_OK
