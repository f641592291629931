"""The verdict on a release's images: Trivy's JSON reports against a stack's threshold and the allow-list.

The build scans each image (main.yml); each deploy judges the reports for its stack (deploy-stack.yml).
A finding at or above ``image_scan.fail_on`` blocks unless an allow-list entry accepts it: same id, and
the same image and package where the entry names them. An entry past its expiry accepts nothing and is
reported; one more than ``MAX_ACCEPT_DAYS`` ahead is refused. Pure: reads the files given, no network.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from infra.settings.loader import parse_yaml

ALLOW_LIST = Path("security/accepted-vulnerabilities.yaml")
MAX_ACCEPT_DAYS = 180
# Trivy's order of severities, lowest first (trivy-db pkg/types/types.go:30-45, at the commit
# trivy v0.70.0's go.mod names).
Rank = Literal["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"]
RANKS: tuple[str, ...] = get_args(Rank)
_ID = r"^(CVE-[0-9]{4}-[0-9]{4,}|GHSA(-[0-9a-z]{4}){3})$"
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class ScanError(ValueError):
    """A report or allow-list that cannot be read as one; the message names the file."""


class Accepted(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=_ID)]
    image: Text | None = None
    package: Text | None = None
    reason: Text
    expires: date


class _AllowList(BaseModel):
    model_config = ConfigDict(extra="forbid")
    accepted: list[Accepted] = []


# Trivy's JSON report, the fields read (pkg/types/report.go:20-36, :157-162 and
# pkg/types/vulnerability.go:9-34 at v0.70.0); the rest of it is ignored.
class _Vulnerability(BaseModel):
    VulnerabilityID: str
    PkgName: str
    InstalledVersion: str = ""
    FixedVersion: str = ""
    Severity: Rank


class _Result(BaseModel):
    Target: str
    Vulnerabilities: list[_Vulnerability] = []


class _Report(BaseModel):
    SchemaVersion: Literal[2]
    ArtifactName: Annotated[str, Field(min_length=1)]
    Results: list[_Result] = []


@dataclass(frozen=True)
class Finding:
    image: str
    package: str
    installed: str
    id: str
    severity: str
    fixed: str

    @property
    def key(self) -> tuple[str, str, str]:
        return self.id, self.image, self.package

    def __str__(self) -> str:
        fix = f"fixed in {self.fixed}" if self.fixed else "no fixed version"
        return f"{self.image}: {self.package} {self.installed} {self.id} {self.severity} ({fix})"


@dataclass(frozen=True)
class Verdict:
    blocking: list[Finding]
    accepted: list[Finding]
    expired: list[tuple[int, Accepted]]


def _problem(error: ValidationError, where: str) -> str:
    first = error.errors()[0]
    loc = [str(part) for part in first["loc"]]
    if where == "entry" and len(loc) >= 2 and loc[0] == "accepted":
        loc = [f"entry {loc[1]}", *loc[2:]]
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"{'.'.join(loc) or '(file)'}: {first['msg']}{more}"


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise ScanError(f"{path}: cannot be read ({error.strerror or type(error).__name__})") from None


def read_allow_list(path: Path, today: date) -> list[Accepted]:
    text = _read(path)
    try:
        loaded = parse_yaml(text.decode())
        entries = _AllowList.model_validate(loaded if loaded is not None else {}).accepted
    except (UnicodeDecodeError, yaml.YAMLError, RecursionError) as error:
        raise ScanError(f"{path}: not a YAML allow-list ({type(error).__name__})") from None
    except ValidationError as error:
        raise ScanError(f"{path}: {_problem(error, 'entry')}") from None
    latest = today + timedelta(days=MAX_ACCEPT_DAYS)
    for index, entry in enumerate(entries):
        if entry.expires > latest:
            raise ScanError(
                f"{path}: entry {index}: expires: {entry.expires} is more than {MAX_ACCEPT_DAYS} days "
                f"ahead (at most {latest}): an accepted finding is looked at again within that"
            )
    return entries


def image_name(artifact: str) -> str:
    """`cr.yandex/<registry>/api@sha256:…` or `…/api:tag` → `api`."""
    last = artifact.split("@", 1)[0].rsplit("/", 1)[-1]
    return last.split(":", 1)[0]


def read_report(path: Path) -> list[Finding]:
    try:
        report = _Report.model_validate_json(_read(path))
    except ValidationError as error:
        raise ScanError(f"{path}: not a Trivy JSON report: {_problem(error, 'report')}") from None
    image = image_name(report.ArtifactName)
    found = {
        Finding(image, v.PkgName, v.InstalledVersion, v.VulnerabilityID, v.Severity, v.FixedVersion): None
        for result in report.Results
        for v in result.Vulnerabilities
    }
    return list(found)


def judge(findings: list[Finding], fail_on: str, allowed: list[Accepted], today: date) -> Verdict:
    live = [entry for entry in allowed if entry.expires >= today]
    serious = [f for f in findings if RANKS.index(f.severity) >= RANKS.index(fail_on)]
    accepted = [
        f for f in serious if any((e.id, e.image or f.image, e.package or f.package) == f.key for e in live)
    ]
    expired = [(index, entry) for index, entry in enumerate(allowed) if entry.expires < today]
    return Verdict([f for f in serious if f not in accepted], accepted, expired)
