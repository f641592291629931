"""The release record: what each stack runs, kept in git in its stack file.

One truth for what is deployed: ``Pulumi.<stack>.yaml``'s ``samokoder:release``
on ``main`` is the release the stack's last successful update deployed. The
deploy workflow writes the new release there (``record-release``), runs
``pulumi up`` from that file and, only when the update and the smoke check
pass, commits the file to ``main``; a failed deploy is rolled back to the
recorded release and leaves the record as it was; a rollback records the
release it went back to. The API goes first (its new image, the worker's and the
site's kept) and Flagger judges it; a release Flagger rolls back is not
committed either, and the stack's newest update then holds its API image in
the Deployment Flagger scaled to zero, which ``verify-release`` reports until
the next release (docs/runbooks/canary.md). So a ``pulumi up`` from a clean checkout of ``main``
deploys the recorded release, and a pull request (merged with ``main`` for
its preview) previews against it. ``verify-release`` compares the record
with the stack's own history (its newest update and its last successful
one) and fails on any difference, before every preview.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from infra.conventions import RELEASE_KEY
from infra.ops.releases.history import Release, releases

SERVICES = ("api", "worker", "frontend")
PRAGMA = "# pragma: allowlist secret (an Alembic revision id)"
_BLOCK = re.compile(rf"^  {re.escape(RELEASE_KEY)}:[^\n]*\n(?:(?:    [^\n]*|[ \t]*)\n)*", re.MULTILINE)


class RecordError(ValueError):
    """The record cannot be written or does not match; the message says what to do."""


@dataclass(frozen=True)
class Recorded:
    id: str
    migration_revision: str
    images: dict[str, str]
    # The API promoted without Flagger's analysis (a rollback's, or a release that must go whole): not
    # a part of what runs, so no difference between a record and a stack.
    skip_analysis: bool = False

    @classmethod
    def of(cls, release: Release) -> Recorded:
        return cls(release.id, release.migration_revision, dict(release.images))


def given(
    release_id: str, migration_revision: str, images: Mapping[str, str], *, skip_analysis: bool = False
) -> Recorded:
    """A release given on a command line, validated as the program validates ``samokoder:release``.

    Raises pydantic's ValidationError, whose message names the field (``images.api``, ``id`` ...).
    """
    from infra.settings.release import Release  # noqa: PLC0415

    Release(
        id=release_id, migration_revision=migration_revision, images=dict(images), skip_analysis=skip_analysis
    )
    return Recorded(release_id, migration_revision, dict(images), skip_analysis)


def render_block(release: Recorded) -> str:
    missing = [s for s in SERVICES if s not in release.images]
    if missing:
        raise RecordError(f"release {release.id}: no digest for {', '.join(missing)}")
    lines = [
        f"  {RELEASE_KEY}:",
        f'    id: "{release.id}"',
        # The scan for secrets takes an Alembic revision for one.
        f"    migration_revision: {release.migration_revision}  {PRAGMA}",
        "    images:",
        *(f"      {service}: {release.images[service]}" for service in SERVICES),
    ]
    if release.skip_analysis:
        lines.append("    skip_analysis: true")
    return "\n".join(lines) + "\n"


def write_release(stack_file_text: str, release: Recorded) -> str:
    """The stack file with its release block replaced (or added); everything else kept byte for byte."""
    block = render_block(release)
    if _BLOCK.search(stack_file_text):
        text = _BLOCK.sub(lambda _: block, stack_file_text, count=1)
    elif re.search(r"^config:[ \t]*\n", stack_file_text, re.MULTILINE):
        text = re.sub(
            r"^config:[ \t]*\n", lambda m: m.group(0) + block, stack_file_text, count=1, flags=re.MULTILINE
        )
    else:
        text = stack_file_text.rstrip("\n") + ("\n" if stack_file_text.strip() else "") + "config:\n" + block
    if read_release(text) != release:
        raise RecordError("the stack file did not read back as the recorded release; it was not written")
    return text


def read_release(stack_file_text: str) -> Recorded | None:
    """The release a stack file records (None: none); RecordError when the file is no stack file."""
    try:
        document = yaml.safe_load(stack_file_text) or {}
    except (yaml.YAMLError, RecursionError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise RecordError(f"not valid YAML ({first})") from None
    config = document.get("config") if isinstance(document, Mapping) else None
    if document and not isinstance(config, Mapping | None):
        raise RecordError("not a stack file: expected a mapping with a config: mapping")
    value = (config or {}).get(RELEASE_KEY)
    if not isinstance(value, Mapping) or not isinstance(value.get("images"), Mapping) or not value["images"]:
        return None
    if not isinstance(value.get("id"), str | int) or isinstance(value.get("id"), bool):
        raise RecordError(f"{RELEASE_KEY} has images but no release id")
    return Recorded(
        str(value["id"]),
        str(value.get("migration_revision", "")),
        dict(value["images"]),
        value.get("skip_analysis") is True,
    )


def deployed(history: Sequence[Mapping[str, Any]]) -> Recorded:
    """The release of the stack's last successful update; refused while its newest update failed."""
    try:
        every = releases(history)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise RecordError(f"the history holds an update of the wrong shape ({error!r})") from None
    if not every:
        raise RecordError("the stack's history has no update that deployed a release by digest")
    newest = every[0]
    if not newest.succeeded:
        raise RecordError(
            f"the stack's newest update ({newest.version}, release {newest.id}) {newest.result}: "
            "what runs is not a recorded release; roll back (`samokoder-infra rollback`) or deploy again"
        )
    recorded = Recorded.of(newest)
    _validated(recorded, f"the stack's newest update ({newest.version})")
    return recorded


def _validated(release: Recorded, source: str) -> None:
    """RecordError unless `release` is one the program would deploy (digests, not tags like `latest`)."""
    from pydantic import ValidationError  # noqa: PLC0415

    try:
        given(release.id, release.migration_revision, release.images, skip_analysis=release.skip_analysis)
    except ValidationError as error:
        fields = ", ".join(
            f"{'.'.join(str(p) for p in e['loc'])}={str(e.get('input'))[:80]!r}" for e in error.errors()
        )
        raise RecordError(f"{source} ran no valid release ({fields}): nothing recorded") from None


def differences(recorded: Recorded | None, running: Recorded) -> list[str]:
    if recorded is None:
        return [f"the stack file records no release; the stack runs {running.id}"]
    pairs = [
        ("id", recorded.id, running.id),
        ("migration_revision", recorded.migration_revision, running.migration_revision),
        *((f"images.{s}", recorded.images.get(s), running.images.get(s)) for s in SERVICES),
    ]
    return [f"{name}: recorded {old}, deployed {new}" for name, old, new in pairs if old != new]
