"""Recorded update histories in the shape `pulumi stack history --json` prints, newest first."""

from __future__ import annotations

import json
from typing import Any

DIGESTS = {
    "r1": {"api": "sha256:" + "11" * 32, "worker": "sha256:" + "12" * 32, "frontend": "sha256:" + "13" * 32},
    "r2": {"api": "sha256:" + "21" * 32, "worker": "sha256:" + "12" * 32, "frontend": "sha256:" + "23" * 32},
    "r3": {"api": "sha256:" + "31" * 32, "worker": "sha256:" + "32" * 32, "frontend": "sha256:" + "23" * 32},
    "r4": {"api": "sha256:" + "41" * 32, "worker": "sha256:" + "42" * 32, "frontend": "sha256:" + "43" * 32},
}


def update(
    version: int,
    release: str,
    result: str = "succeeded",
    revision: str = "aaaa1111",
    kind: str = "update",
) -> dict[str, Any]:
    """One update of ``release``."""
    value: dict[str, Any] = {"id": release, "images": DIGESTS[release], "migration_revision": revision}
    return {
        "kind": kind,
        "version": version,
        "result": result,
        "startTime": f"2026-11-{version:02d}T10:00:00Z",
        "endTime": f"2026-11-{version:02d}T10:04:00Z",
        "config": {
            "samokoder:identity": {"value": '{"domain": "staging.samokoder.ru"}', "secret": False},
            "samokoder:release": {"value": json.dumps(value), "secret": False},
        },
    }
