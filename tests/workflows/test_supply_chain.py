"""What runs is what was scanned and signed: the build scans, describes and signs each image by digest,
the deploy judges the scan for its stack and verifies each signature before it copies or updates anything.

The refusal itself is cosign's (not run here: no registry, no Sigstore); this holds the workflows to
binding it: the identity, the issuer, every image by digest, and the order of the steps.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from tests.workflows.test_workflows import WORKFLOWS, workflow

# A third-party action that reads the job's keys is pinned by commit (tags can be moved), its tag
# beside it: trivy-action's tags were force-pushed on 2026-03-19 (GHSA-69fq-xp46-6x23).
PINNED = re.compile(
    r"uses: (aquasecurity/trivy-action|sigstore/cosign-installer)@([0-9a-f]{40})  # v\d+\.\d+\.\d+$"
)
ISSUER = "https://token.actions.githubusercontent.com"
IDENTITY = '"$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/.github/workflows/main.yml@refs/heads/main"'


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
    assert len(lines) == 6
    assert all(PINNED.search(line) for line in lines), lines
    steps = workflow("main.yml")["jobs"]["images"]["steps"]
    trivy = [s for s in steps if s.get("uses", "").startswith("aquasecurity/trivy-action@")]
    assert {s["with"]["version"] for s in trivy} == {"v0.70.0"}
    for path in ("main.yml", "deploy-stack.yml"):
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
    copy = _index(steps, lambda s: "skopeo copy" in s.get("run", ""))
    run = steps[copy]["run"]
    assert run.index("cosign") < run.index("skopeo copy")
    assert f"identity={IDENTITY}" in run
    assert re.search(
        r'--certificate-identity "\$identity" \\\n\s+--certificate-oidc-issuer '
        + re.escape(ISSUER)
        + r" \\\n",
        run,
    )
    assert "for check in verify verify-attestation" in run
    assert '"$SOURCE/${pair%%=*}@${pair#*=}"' in run
    assert '"api=$API" "worker=$API" "frontend=$FRONTEND"' in run.split("cosign", 1)[1]
    # No regexp and no way around it: an unsigned or foreign image ends the step (set -e).
    assert "regexp" not in run
    assert "|| true" not in run
    first_up = _index(steps, lambda s: s.get("with", {}).get("command") == "up")
    assert download < verdict < copy < first_up


def test_the_identity_is_the_workflow_that_builds_on_main() -> None:
    main = workflow("main.yml")
    assert main[True]["push"]["branches"] == ["main"]
    assert "cosign sign" in yaml.safe_dump(main["jobs"]["images"])
