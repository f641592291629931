"""The signature check against a stand-in cosign: both checks of every image, the build's identity and
GitHub's issuer on each, the registry's token in a config file, and each refusal named."""

from __future__ import annotations

import base64
import json
import os
import sys
from pathlib import Path

import pytest

from infra.ops.releases.signatures import SignatureError, signer_identity, unverified

API = "cr.yandex/crpstaging/api@sha256:" + "a" * 64
FRONTEND = "cr.yandex/crpstaging/frontend@sha256:" + "b" * 64
IDENTITY = "https://github.com/o/r/.github/workflows/main.yml@refs/heads/main"

# Records each call and the registry auth cosign would read; refuses the references in refused.json.
STAND_IN = """\
import json, os, pathlib, sys
work = pathlib.Path(sys.argv[0]).parent
config = json.loads((pathlib.Path(os.environ["DOCKER_CONFIG"]) / "config.json").read_text())
with (work / "calls").open("a") as out:
    out.write(json.dumps({"args": sys.argv[1:], "config": config}) + "\\n")
if sys.argv[-1] in json.loads((work / "refused.json").read_text()):
    print("Error: no matching signatures: none of the expected identities matched", file=sys.stderr)
    sys.exit(1)
"""


@pytest.fixture
def cosign(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    program = tmp_path / "cosign"
    program.write_text(f"#!{sys.executable}\n{STAND_IN}")
    program.chmod(0o755)
    (tmp_path / "refused.json").write_text("[]")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    return tmp_path


def calls(work: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (work / "calls").read_text().splitlines()]


def test_every_image_is_checked_for_its_signature_and_its_sbom_by_the_builds_identity(cosign: Path) -> None:
    assert unverified({"api": API, "frontend": FRONTEND}, IDENTITY, "t1.token") == []
    bound = [
        "--certificate-identity",
        IDENTITY,
        "--certificate-oidc-issuer",
        "https://token.actions.githubusercontent.com",
    ]
    made = calls(cosign)
    assert [c["args"] for c in made] == [
        ["verify", *bound, API],
        ["verify-attestation", "--type", "cyclonedx", *bound, API],
        ["verify", *bound, FRONTEND],
        ["verify-attestation", "--type", "cyclonedx", *bound, FRONTEND],
    ]
    # The registry's token as the password of `iam`, in cosign's config, not on a command line.
    auth = base64.b64encode(b"iam:t1.token").decode()
    assert all(c["config"] == {"auths": {"cr.yandex": {"auth": auth}}} for c in made)
    assert not any("t1.token" in arg for c in made for arg in c["args"])  # type: ignore[attr-defined]


def test_each_refused_check_is_named_with_cosigns_reason(cosign: Path) -> None:
    (cosign / "refused.json").write_text(json.dumps([FRONTEND]))
    failed = unverified({"api": API, "frontend": FRONTEND}, IDENTITY, "t1.token")
    reason = "Error: no matching signatures: none of the expected identities matched"
    assert failed == [
        f"frontend: verify {FRONTEND}: {reason}",
        f"frontend: verify-attestation {FRONTEND}: {reason}",
    ]


def test_no_cosign_is_an_error_not_a_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SignatureError, match="cosign is not on PATH"):
        unverified({"api": API}, IDENTITY, "t1.token")


@pytest.mark.parametrize("repository", ["", "o", "o/", "/r", "o/r/x"])
def test_the_identity_needs_the_repository_as_owner_and_name(repository: str) -> None:
    with pytest.raises(SignatureError, match="GITHUB_REPOSITORY"):
        signer_identity({"GITHUB_REPOSITORY": repository})


def test_the_identity_is_githubs_url_of_main_yml_on_main() -> None:
    assert signer_identity({"GITHUB_REPOSITORY": "o/r"}) == IDENTITY
    enterprise = {"GITHUB_REPOSITORY": "o/r", "GITHUB_SERVER_URL": "https://ghe.example/"}
    assert signer_identity(enterprise) == "https://ghe.example/o/r/.github/workflows/main.yml@refs/heads/main"
