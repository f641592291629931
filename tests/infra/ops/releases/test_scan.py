"""The images' scan verdict: the allow-list's parser and expiry rule, and Trivy reports judged by it."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from infra.ops.releases.scan import (
    ALLOW_LIST,
    MAX_ACCEPT_DAYS,
    Accepted,
    Finding,
    ScanError,
    image_name,
    judge,
    read_allow_list,
    read_report,
)
from tests.conftest import PROJECT_DIR

TRIVY = Path(__file__).parent / "trivy"
TODAY = date(2026, 12, 7)


def _allow_list(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "accepted.yaml"
    path.write_text(text)
    return path


def _entry(**fields: object) -> Accepted:
    base: dict[str, object] = {"id": "CVE-2026-10001", "reason": "not reachable", "expires": TODAY}
    return Accepted.model_validate({**base, **fields})


def test_the_projects_allow_list_reads() -> None:
    assert isinstance(read_allow_list(PROJECT_DIR / ALLOW_LIST, TODAY), list)


def test_an_entry_reads_with_its_optional_scope(tmp_path: Path) -> None:
    path = _allow_list(
        tmp_path,
        "accepted:\n"
        "  - id: GHSA-4xqq-73wg-5mjp\n    reason: the sandbox is not used\n    expires: 2027-01-31\n"
        "  - id: CVE-2026-10001\n    image: api\n    package: libssl3\n"
        "    reason: no TLS server in the image\n    expires: 2027-06-05\n",
    )
    first, second = read_allow_list(path, TODAY)
    assert (first.id, first.image, first.package, first.expires) == (
        "GHSA-4xqq-73wg-5mjp",
        None,
        None,
        date(2027, 1, 31),
    )
    assert (second.image, second.package) == ("api", "libssl3")


@pytest.mark.parametrize(
    ("entry", "named"),
    [
        ("  - id: CVE-2026-1\n    reason: r\n    expires: 2027-01-01\n", "entry 0.id"),
        ("  - id: CVE-2026-10001\n    expires: 2027-01-01\n", "entry 0.reason: Field required"),
        ("  - id: CVE-2026-10001\n    reason: '  '\n    expires: 2027-01-01\n", "entry 0.reason"),
        ("  - id: CVE-2026-10001\n    reason: r\n", "entry 0.expires: Field required"),
        ("  - id: CVE-2026-10001\n    reason: r\n    expires: soon\n", "entry 0.expires"),
        ("  - id: CVE-2026-10001\n    reason: r\n    expires: 2027-01-01\n    until: x\n", "entry 0.until"),
    ],
)
def test_a_bad_entry_is_refused_by_its_index_and_key(tmp_path: Path, entry: str, named: str) -> None:
    good = "  - id: CVE-2026-20001\n    reason: r\n    expires: 2027-01-01\n"
    path = _allow_list(tmp_path, "accepted:\n" + entry + good)
    with pytest.raises(ScanError, match=named.replace(".", r"\.")):
        read_allow_list(path, TODAY)
    # The second entry of the list is named by its own index.
    path = _allow_list(tmp_path, "accepted:\n" + good + entry)
    with pytest.raises(ScanError, match=named.replace("entry 0", "entry 1").replace(".", r"\.")):
        read_allow_list(path, TODAY)


def test_an_expiry_more_than_180_days_ahead_is_refused(tmp_path: Path) -> None:
    limit = TODAY + timedelta(days=MAX_ACCEPT_DAYS)
    entry = "  - id: CVE-2026-10001\n    reason: r\n    expires: {}\n"
    assert read_allow_list(_allow_list(tmp_path, "accepted:\n" + entry.format(limit)), TODAY)
    path = _allow_list(tmp_path, "accepted:\n" + entry.format(limit + timedelta(days=1)))
    with pytest.raises(ScanError, match=rf"entry 0: expires: {limit + timedelta(days=1)} .*at most {limit}"):
        read_allow_list(path, TODAY)


@pytest.mark.parametrize(
    "text", ["accepted: [1\n", "- 1\n", "accepted: 5\n", "&a x: *a\n", "accepted:\n  - id: CVE-2026-10001\n"]
)
def test_an_allow_list_that_is_not_one_is_refused_by_name(tmp_path: Path, text: str) -> None:
    with pytest.raises(ScanError, match=r"accepted\.yaml: "):
        read_allow_list(_allow_list(tmp_path, text), TODAY)


def test_trivy_reports_read_as_findings_of_their_image() -> None:
    api = read_report(TRIVY / "api.json")
    assert {f.image for f in api} == {"api"}
    assert {(f.package, f.id, f.severity, f.fixed) for f in api} >= {
        ("libssl3", "CVE-2026-10001", "HIGH", "3.0.16-1~deb12u1"),
        ("libc6", "CVE-2026-10002", "CRITICAL", ""),
        ("jinja2", "GHSA-4xqq-73wg-5mjp", "HIGH", "3.1.5"),
    }
    assert read_report(TRIVY / "clean.json") == []
    assert image_name("cr.yandex/r/frontend:2026.12.07-1") == "frontend"


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ("{ not json", "not a Trivy JSON report"),
        ('{"ArtifactName": "x"}', "SchemaVersion"),
        (
            '{"SchemaVersion": 2, "ArtifactName": "x", "Results": [{"Target": "t", '
            '"Vulnerabilities": [{"VulnerabilityID": "CVE-1", "PkgName": "p", "Severity": "SEVERE"}]}]}',
            "Results.0.Vulnerabilities.0.Severity",
        ),
        ("[" * 100_000 + "]" * 100_000, "not a Trivy JSON report"),
    ],
)
def test_a_file_that_is_no_trivy_report_is_refused_by_name(tmp_path: Path, content: str, named: str) -> None:
    path = tmp_path / "report.json"
    path.write_text(content)
    with pytest.raises(ScanError, match=f"report.json: .*{named}"):
        read_report(path)
    with pytest.raises(ScanError, match="cannot be read"):
        read_report(tmp_path)


def _findings() -> list[Finding]:
    return [*read_report(TRIVY / "api.json"), *read_report(TRIVY / "frontend.json")]


def test_findings_at_or_above_the_threshold_block() -> None:
    high = judge(_findings(), "HIGH", [], TODAY)
    assert {(f.image, f.id) for f in high.blocking} == {
        ("api", "CVE-2026-10001"),
        ("api", "CVE-2026-10002"),
        ("api", "GHSA-4xqq-73wg-5mjp"),
        ("frontend", "CVE-2026-10001"),
    }
    assert {f.id for f in judge(_findings(), "CRITICAL", [], TODAY).blocking} == {"CVE-2026-10002"}
    low = {f.id for f in judge(_findings(), "LOW", [], TODAY).blocking}
    # UNKNOWN ranks below LOW, as in Trivy: it never blocks by itself.
    assert "CVE-2026-20001" in low
    assert "CVE-2026-10004" not in low


def test_an_entry_accepts_only_its_id_image_and_package() -> None:
    everywhere = judge(_findings(), "HIGH", [_entry()], TODAY)
    assert "CVE-2026-10001" not in {f.id for f in everywhere.blocking}
    assert len(everywhere.accepted) == 2
    in_api = judge(_findings(), "HIGH", [_entry(image="api")], TODAY)
    assert {(f.image, f.id) for f in in_api.blocking if f.id == "CVE-2026-10001"} == {
        ("frontend", "CVE-2026-10001")
    }
    other_package = judge(_findings(), "HIGH", [_entry(package="openssl")], TODAY)
    assert len([f for f in other_package.blocking if f.id == "CVE-2026-10001"]) == 2


def test_an_expired_entry_accepts_nothing_and_is_reported() -> None:
    on_its_day = judge(_findings(), "HIGH", [_entry()], TODAY)
    assert on_its_day.expired == []
    assert len(on_its_day.accepted) == 2
    after = judge(_findings(), "HIGH", [_entry()], TODAY + timedelta(days=1))
    assert after.accepted == []
    assert [(index, entry.id) for index, entry in after.expired] == [(0, "CVE-2026-10001")]
    assert "CVE-2026-10001" in {f.id for f in after.blocking}


def test_a_finding_is_printed_with_what_an_operator_needs() -> None:
    (libssl,) = [f for f in read_report(TRIVY / "api.json") if f.package == "libssl3"]
    assert str(libssl) == "api: libssl3 3.0.15-1~deb12u1 CVE-2026-10001 HIGH (fixed in 3.0.16-1~deb12u1)"
    (libc,) = [f for f in read_report(TRIVY / "api.json") if f.package == "libc6"]
    assert str(libc).endswith("CVE-2026-10002 CRITICAL (no fixed version)")
