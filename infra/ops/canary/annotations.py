"""Grafana annotations for the steps of a canary release, so that people see them on the graphs.

Each step (the canary started, its weight changed, a window judged, the release
promoted or aborted) becomes an organization annotation in the stack's Grafana,
tagged with the project, the stack, ``release``, ``release:<id>`` and the
step's kind. The golden-signals dashboard asks Grafana's own annotation store
for the tags every one of them carries (``RELEASE_ANNOTATION_TAGS``,
infra/render/monitoring/dashboards/golden_signals.py), so the steps show on
every panel beside the canary's and stable's series.

The request is Grafana's Annotations HTTP API, "Create Annotation"
(grafana/grafana docs/sources/developers/http_api/annotations.md):
``POST /api/annotations`` with a JSON body of ``time`` and ``timeEnd`` (epoch
milliseconds; equal for a point in time), ``tags`` and ``text``, plus an
optional ``dashboardUID`` that ties the annotation to one dashboard instead of
the organization. The fields are those of ``PostAnnotationsCmd``
(pkg/api/dtos/annotations.go); ``text`` is required (pkg/api/annotations.go
answers 400 "text field should not be empty"). Grafana answers
``{"message": "Annotation added", "id": N}``, and an error with a JSON
``message``. The caller authenticates as a service account, with its token as
a bearer token; the account needs ``annotations:create`` (the Editor role has
it).

No Grafana runs where this is developed and tested: it is packaged neither in
Debian nor on PyPI. tests/infra/ops/canary/test_annotations.py holds the
client to the documented request (method, path, headers, body) with a
loopback server that records it, and to Grafana's error shape.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal, get_args

from infra.conventions import PROJECT
from infra.render.monitoring.dashboards.golden_signals import RELEASE_TAG

Step = Literal["canary", "weight", "judged", "promoted", "aborted"]
STEPS: Final[tuple[Step, ...]] = get_args(Step)
API_PATH: Final = "/api/annotations"
# How much of an error page that is not Grafana's JSON an operator is shown.
MAX_ERROR_TEXT = 200

_DOING: Final[dict[Step, str]] = {
    "canary": "canary started",
    "weight": "canary weight changed",
    "judged": "canary judged",
    "promoted": "promoted",
    "aborted": "aborted",
}


class GrafanaError(RuntimeError):
    """Grafana refused the annotation or could not be reached; the message says which, for an operator."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ReleaseStep:
    """One step of a release on a stack, as an annotation shows it."""

    stack: str
    release: str
    step: Step
    # The canary's share of the API's requests, in percent, after the step (100 once promoted).
    weight: int | None = None
    # The judge's verdict, or why the release was aborted.
    verdict: str | None = None
    # Anything the operator adds.
    note: str | None = None

    def tags(self) -> list[str]:
        return [PROJECT, self.stack, RELEASE_TAG, f"{RELEASE_TAG}:{self.release}", self.step]

    def text(self) -> str:
        """`Release 2026.11.20-1 on prod: canary judged at weight 25 %; verdict: promote. <note>`."""
        words = f"Release {self.release} on {self.stack}: {_DOING[self.step]}"
        if self.weight is not None:
            words += f" at weight {self.weight} %"
        if self.verdict:
            words += f"; verdict: {self.verdict}"
        return f"{words}. {self.note}" if self.note else f"{words}."


def epoch_ms(at: datetime) -> int:
    """Milliseconds since the epoch, as Grafana's ``time`` and ``timeEnd`` take them."""
    if at.tzinfo is None:
        raise ValueError("a time without a zone is ambiguous: give an aware datetime")
    return round(at.timestamp() * 1000)


def annotation_body(
    step: ReleaseStep, start: datetime, end: datetime | None = None, dashboard_uid: str | None = None
) -> dict[str, Any]:
    """The JSON of ``POST /api/annotations``: a point in time, or a region up to ``end``."""
    body: dict[str, Any] = {
        "time": epoch_ms(start),
        "timeEnd": epoch_ms(end or start),
        "tags": step.tags(),
        "text": step.text(),
    }
    if body["timeEnd"] < body["time"]:
        raise ValueError("an annotation cannot end before it starts")
    if dashboard_uid:
        body["dashboardUID"] = dashboard_uid
    return body


def annotations_url(grafana: str) -> str:
    """``<grafana>/api/annotations``; Grafana's base URL may carry a sub-path (root_url)."""
    parts = urllib.parse.urlsplit(grafana)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{grafana!r} is not a Grafana URL: give http(s)://host[:port][/path]")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("give Grafana's base URL alone: no credentials, query or fragment")
    return f"{grafana.rstrip('/')}{API_PATH}"


def _grafana_message(error: urllib.error.HTTPError) -> str:
    """Grafana's own words from an error answer: its JSON ``message``, else the start of the body."""
    raw = error.read().decode("utf-8", "replace")
    try:
        document = json.loads(raw)
    except ValueError:
        document = None
    if isinstance(document, dict) and isinstance(document.get("message"), str):
        return str(document["message"])
    text = " ".join(raw.split())
    return (text[:MAX_ERROR_TEXT] + "…" if len(text) > MAX_ERROR_TEXT else text) or str(error.reason)


def post_annotation(grafana: str, token: str, body: dict[str, Any], timeout: float = 10) -> int:
    """Create the annotation; its id. GrafanaError with the HTTP status and Grafana's message if refused."""
    url = annotations_url(grafana)
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.load(response)
    except urllib.error.HTTPError as error:
        message = _grafana_message(error)
        raise GrafanaError(
            f"Grafana refused the annotation: POST {url} answered HTTP {error.code}: {message}", error.code
        ) from None
    except urllib.error.URLError as error:
        raise GrafanaError(f"cannot reach Grafana at {url}: {error.reason}") from None
    # A port-forward whose pod went away accepts the connection and closes it: no HTTP answer at all.
    except (TimeoutError, ValueError, OSError, http.client.HTTPException) as error:
        raise GrafanaError(f"no usable answer from Grafana at {url}: {error}") from None
    if not isinstance(answer, dict) or not isinstance(answer.get("id"), int):
        raise GrafanaError(f"Grafana at {url} answered without the annotation's id: {answer!r}")
    return int(answer["id"])


def annotate(
    grafana: str,
    token: str,
    step: ReleaseStep,
    start: datetime,
    *,
    end: datetime | None = None,
    dashboard_uid: str | None = None,
) -> int:
    """Annotate a release step in the stack's Grafana; the annotation's id."""
    return post_annotation(grafana, token, annotation_body(step, start, end, dashboard_uid))
