"""What runs is what was scanned and signed: the build scans, describes and signs each image by digest,
the deploy judges the scan for its stack and verifies each signature before it copies or updates anything.

The refusal itself is cosign's (not run here: no registry, no Sigstore); this holds the workflows to
binding it: the identity, the issuer, every image by digest, and the order of the steps.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.ops.releases.signatures import SIGNER, cosign_checks, signer_identity
from tests.workflows.test_workflows import WORKFLOWS, workflow

# A third-party action that reads the job's keys is pinned by commit (tags can be moved), its tag
# beside it: trivy-action's tags were force-pushed on 2026-03-19 (GHSA-69fq-xp46-6x23).
PINNED = re.compile(
    r"uses: (aquasecurity/trivy-action|sigstore/cosign-installer)@([0-9a-f]{40})  # v\d+\.\d+\.\d+$"
)
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"


def _index(steps: list[dict[str, Any]], found: Any) -> int:
    return next(i for i, step in enumerate(steps) if found(step))


def test_only_the_build_job_may_mint_an_oidc_token() -> None:
    minting = [
        f"{path.name}:{name}"
        for path in sorted(WORKFLOWS.glob("*.yml"))
        for name, job in yaml.safe_load(path.read_text())["jobs"].items()
        if job.get("permissions", {}).get("id-token") == "write"
    ]
    assert minting == ["main.yml:images"]
    assert "id-token" not in workflow("main.yml")["permissions"]


def test_the_scanner_and_the_signer_are_pinned_by_commit_with_their_versions() -> None:
    lines = [
        line.strip()
        for path in sorted(WORKFLOWS.glob("*.yml"))
        for line in path.read_text().splitlines()
        if re.search(r"uses: (aquasecurity|sigstore)/", line)
    ]
    assert len(lines) == 7
    assert all(PINNED.search(line) for line in lines), lines
    steps = workflow("main.yml")["jobs"]["images"]["steps"]
    trivy = [s for s in steps if s.get("uses", "").startswith("aquasecurity/trivy-action@")]
    assert {s["with"]["version"] for s in trivy} == {"v0.70.0"}
    for path in ("main.yml", "deploy-stack.yml", "rollback.yml"):
        (installer,) = [
            s
            for job in workflow(path)["jobs"].values()
            for s in job.get("steps", [])
            if s.get("uses", "").startswith("sigstore/cosign-installer@")
        ]
        assert installer["with"]["cosign-release"] == "v3.0.6"


def test_each_image_is_scanned_by_digest_and_its_reports_kept_with_the_release() -> None:
    steps = workflow("main.yml")["jobs"]["images"]["steps"]
    trivy = [s["with"] for s in steps if s.get("uses", "").startswith("aquasecurity/trivy-action@")]
    scanned = {(w["image-ref"], w["format"], w["output"]) for w in trivy}
    api = "${{ steps.registry.outputs.source }}/api@${{ steps.backend.outputs.digest }}"
    frontend = "${{ steps.registry.outputs.source }}/frontend@${{ steps.frontend.outputs.digest }}"
    assert scanned == {
        (api, "json", "scan/api.json"),
        (api, "cyclonedx", "scan/api.cdx.json"),
        (frontend, "json", "scan/frontend.json"),
        (frontend, "cyclonedx", "scan/frontend.cdx.json"),
    }
    # Every severity in the report: the threshold is each stack's, judged at its deploy.
    assert not any("severity" in w or "exit-code" in w for w in trivy)
    (upload,) = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload["with"]["name"] == "images-${{ steps.release.outputs.id }}"
    assert (upload["with"]["path"], upload["with"]["retention-days"]) == ("scan/", 90)


def test_each_image_is_signed_by_digest_with_its_sbom_attested_after_its_scan() -> None:
    steps = workflow("main.yml")["jobs"]["images"]["steps"]
    sign = _index(steps, lambda s: "cosign sign" in s.get("run", ""))
    run = steps[sign]["run"]
    assert 'cosign sign --yes "$SOURCE/$service@$digest"' in run
    assert '--type cyclonedx --predicate "scan/$sbom.cdx.json" "$SOURCE/$service@$digest"' in run
    assert '"api $BACKEND api" "worker $BACKEND api" "frontend $FRONTEND frontend"' in run
    assert "--key" not in run
    scans = [i for i, s in enumerate(steps) if s.get("uses", "").startswith("aquasecurity/trivy-action@")]
    assert max(scans) < sign


def test_the_deploy_judges_the_scan_and_verifies_every_signature_before_copy_and_update() -> None:
    steps = workflow("deploy-stack.yml")["jobs"]["deploy"]["steps"]
    download = _index(steps, lambda s: s.get("uses", "").startswith("actions/download-artifact@"))
    assert steps[download]["with"]["name"] == "images-${{ inputs.release }}"
    verdict = _index(steps, lambda s: "samokoder-infra scan-verdict" in s.get("run", ""))
    assert '"$STACK" "$RUNNER_TEMP/scan/api.json" "$RUNNER_TEMP/scan/frontend.json"' in steps[verdict]["run"]
    installer = _index(steps, lambda s: s.get("uses", "").startswith("sigstore/cosign-installer@"))
    copy = _index(steps, lambda s: "skopeo copy" in s.get("run", ""))
    run = steps[copy]["run"]
    # The one check (infra/ops/releases/signatures.py) on every image by digest, where it is copied from.
    verify = 'samokoder-infra verify-images "$SOURCE" --key-file "$source_key" \\\n'
    assert verify in run
    assert run.index(verify) < run.index("skopeo copy")
    assert '"api=$API" "worker=$API" "frontend=$FRONTEND"' in run.split("verify-images", 1)[1]
    # Not a second copy of the check: no cosign command line of its own, no way around it.
    assert "cosign " not in run
    assert "|| true" not in run
    first_up = _index(steps, lambda s: s.get("with", {}).get("command") == "up")
    assert download < verdict < installer < copy < first_up


def test_one_identity_and_issuer_for_the_deploy_and_the_rollback() -> None:
    identity = signer_identity({"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "o/r"})
    assert identity == "https://github.com/o/r/.github/workflows/main.yml@refs/heads/main"
    checks = cosign_checks("cr.yandex/crp1/api@sha256:" + "a" * 64, identity)
    bound = ["--certificate-identity", identity, "--certificate-oidc-issuer", GITHUB_ISSUER]
    assert checks == [
        ["cosign", "verify", *bound, "cr.yandex/crp1/api@sha256:" + "a" * 64],
        [
            "cosign",
            "verify-attestation",
            "--type",
            "cyclonedx",
            *bound,
            "cr.yandex/crp1/api@sha256:" + "a" * 64,
        ],
    ]
    # An exact identity, no regexp: cosign's --certificate-identity-regexp would accept lookalikes.
    assert not any("regexp" in part for check in checks for part in check)
    # The identity names the workflow that signs, on the branch it runs on.
    main = workflow("main.yml")
    assert ".github/workflows/main.yml@refs/heads/" + main[True]["push"]["branches"][0] == SIGNER
    assert "cosign attest --yes --type cyclonedx" in yaml.safe_dump(main["jobs"]["images"], width=1000)


def test_the_identity_is_the_workflow_that_builds_on_main() -> None:
    main = workflow("main.yml")
    assert main[True]["push"]["branches"] == ["main"]
    assert "cosign sign" in yaml.safe_dump(main["jobs"]["images"])


def test_the_rollback_installs_the_builds_cosign_before_it_rolls_back() -> None:
    steps = workflow("rollback.yml")["jobs"]["rollback"]["steps"]
    installer = _index(steps, lambda s: s.get("uses", "").startswith("sigstore/cosign-installer@"))
    roll_back = _index(steps, lambda s: s.get("name") == "Roll back")
    assert installer < roll_back
    step = steps[roll_back]
    assert step["env"] == {
        "SOURCE": "${{ secrets.STAGING_REGISTRY }}",
        "SOURCE_PULL_KEY": "${{ secrets.STAGING_REGISTRY_PULL_KEY }}",
    }
    # The deploy's own rollback reads the signatures where its copy did.
    deploy = workflow("deploy-stack.yml")["jobs"]["deploy"]["steps"]
    copy = next(s for s in deploy if "skopeo copy" in s.get("run", ""))
    assert 'echo "SOURCE_KEY_FILE=$source_key" >> "$GITHUB_ENV"' in copy["run"]
    (after_failure,) = [s for s in deploy if s.get("name") == "Roll back"]
    assert (
        'samokoder-infra rollback "$STACK" --source "$SOURCE" --source-key-file "$SOURCE_KEY_FILE" --yes'
        in after_failure["run"]
    )


def _roll_back(tmp_path: Path, stack: str, release: str = "", source: str = "cr.yandex/crpstaging") -> Any:
    """The Roll back step of rollback.yml run by bash, with a samokoder-infra that prints its arguments."""
    run = next(
        s for s in workflow("rollback.yml")["jobs"]["rollback"]["steps"] if s.get("name") == "Roll back"
    )
    fake = tmp_path / "samokoder-infra"
    fake.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$RUNNER_TEMP/args"\n')
    fake.chmod(0o755)
    env = {
        "PATH": f"{tmp_path}:{os.environ['PATH']}",
        "STACK": stack,
        "RELEASE": release,
        "SOURCE": source,
        "SOURCE_PULL_KEY": '{"id": "puller"}',
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
    }
    return subprocess.run(["bash", "-c", run["run"]], env=env, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("release", ["", "2026.11.18-2"])
def test_prods_rollback_verifies_in_staging_registry_with_the_pull_only_key(
    tmp_path: Path, release: str
) -> None:
    done = _roll_back(tmp_path, "prod", release)
    assert done.returncode == 0, done.stderr
    args = (tmp_path / "args").read_text().splitlines()
    key = str(tmp_path / "source-key.json")
    target = ["--to", release] if release else []
    assert args == [
        "rollback",
        "prod",
        *target,
        "--source",
        "cr.yandex/crpstaging",
        "--source-key-file",
        key,
        "--yes",
    ]
    assert Path(key).read_text() == '{"id": "puller"}'
    assert Path(key).stat().st_mode & 0o077 == 0


def test_stagings_rollback_verifies_in_its_own_registry(tmp_path: Path) -> None:
    done = _roll_back(tmp_path, "staging", source="")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "args").read_text().splitlines() == ["rollback", "staging", "--yes"]


def test_prods_rollback_without_staging_registry_stops_before_the_command(tmp_path: Path) -> None:
    done = _roll_back(tmp_path, "prod", source="")
    assert done.returncode == 1
    assert "set STAGING_REGISTRY (cr.yandex/<id>)" in done.stderr
    assert not (tmp_path / "args").exists()
