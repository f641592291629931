"""`rollback` verifies the digests it goes back to, as the deploy does, before anything is set or applied.

The stack, the registry, the IAM API and cosign are stood in for at the seams `_apply` calls; what
is checked is which digests are verified, where, with which identity and key, and that a refusal
stops the rollback before `roll_back` (the preview and `pulumi up`).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from infra.ops.cli import build_parser, rollback
from infra.ops.cli.common import EXIT_FAILED, Failure
from infra.ops.releases.history import Release, RollbackPlan
from tests.infra.ops.releases.histories import DIGESTS

IDENTITY = "https://github.com/o/r/.github/workflows/main.yml@refs/heads/main"
PLAN = RollbackPlan(
    current=Release(2, "", "succeeded", "r2", dict(DIGESTS["r2"]), "aaaa1111"),
    target=Release(1, "", "succeeded", "r1", dict(DIGESTS["r1"]), "aaaa1111"),
)


@pytest.fixture
def seams(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    from infra.ops.automation import rollback as automation  # noqa: PLC0415
    from infra.ops.automation import stack  # noqa: PLC0415
    from infra.ops.releases import registry, signatures  # noqa: PLC0415
    from infra.providers.yandex import connection  # noqa: PLC0415

    seen: dict[str, Any] = {"events": [], "refused": []}

    class Connection:
        def __init__(self, auth: str, key_file: str | None = None) -> None:
            self.source = key_file or auth

        def iam_token(self) -> Any:
            return SimpleNamespace(token=f"token of {self.source}")

    def unverified(references: dict[str, str], identity: str, token: str, **_: Any) -> list[str]:
        seen["events"].append(("verify", references, identity, token))
        return list(seen["refused"])

    monkeypatch.setenv("GITHUB_REPOSITORY", "o/r")
    monkeypatch.delenv("GITHUB_SERVER_URL", raising=False)
    monkeypatch.setattr(connection, "Connection", Connection)
    monkeypatch.setattr(
        stack,
        "select",
        lambda *_: SimpleNamespace(outputs=lambda: {"registry_id": SimpleNamespace(value="crpprod")}),
    )
    monkeypatch.setattr(
        registry, "missing_images", lambda refs, token: seen["events"].append(("registry", refs, token)) or []
    )
    monkeypatch.setattr(signatures, "unverified", unverified)
    monkeypatch.setattr(
        automation, "roll_back", lambda *args, **kw: seen["events"].append(("roll_back", args[2]))
    )
    monkeypatch.setattr(rollback, "smoke_check", lambda stack: 0)
    return seen


def _apply(*argv: str) -> int:
    return rollback._apply(build_parser().parse_args(["rollback", *argv, "--yes"]), PLAN)


def test_prods_rollback_verifies_the_targets_digests_in_staging_registry_before_it_rolls_back(
    seams: dict[str, Any], tmp_path: Path
) -> None:
    key = tmp_path / "puller.json"
    assert _apply("prod", "--source", "cr.yandex/crpstaging", "--source-key-file", str(key)) == 0
    (registry, verify, roll_back) = seams["events"]
    # The digests must still be in prod's registry, read with prod's own identity ...
    assert registry[1] == {s: f"cr.yandex/crpprod/{s}@{d}" for s, d in DIGESTS["r1"].items()}
    assert registry[2] == "token of environment"
    # ... and be signed where the build pushed them, by the same digests, read with the puller's key.
    assert verify[1] == {s: f"cr.yandex/crpstaging/{s}@{d}" for s, d in DIGESTS["r1"].items()}
    assert (verify[2], verify[3]) == (IDENTITY, f"token of {key}")
    assert roll_back == ("roll_back", PLAN)


def test_stagings_rollback_verifies_in_its_own_registry(seams: dict[str, Any]) -> None:
    assert _apply("staging") == 0
    verify = seams["events"][1]
    assert verify[1] == {s: f"cr.yandex/crpprod/{s}@{d}" for s, d in DIGESTS["r1"].items()}
    assert verify[3] == "token of environment"


def test_an_image_not_signed_by_the_build_refuses_the_rollback_before_any_update(
    seams: dict[str, Any],
) -> None:
    seams["refused"].append("worker: verify cr.yandex/crpstaging/worker@sha256:...: no matching signatures")
    with pytest.raises(Failure) as refused:
        _apply("prod", "--source", "cr.yandex/crpstaging")
    assert refused.value.code == EXIT_FAILED
    assert "rollback: refused: not signed and attested by this repository's main.yml on main" in str(
        refused.value
    )
    assert "worker: verify" in str(refused.value)
    assert [event[0] for event in seams["events"]] == ["registry", "verify"]


def test_no_repository_to_expect_refuses_too(seams: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_REPOSITORY")
    with pytest.raises(Failure, match="the signatures cannot be checked: GITHUB_REPOSITORY"):
        _apply("staging")
    assert [event[0] for event in seams["events"]] == ["registry"]


@pytest.mark.parametrize("source", ["crpstaging", "https://cr.yandex/crp", "cr.yandex/"])
def test_a_source_that_is_not_a_registry_is_bad_input(
    source: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["rollback", "prod", "--source", source])
    assert exited.value.code == 2
    assert "is not a registry such as cr.yandex/<id>" in capsys.readouterr().err
