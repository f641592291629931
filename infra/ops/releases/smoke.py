"""The smoke check after an update or a rollback: the whole path through the public address.

Each probe is one request a browser could make, and has its own verdict: the
API's constant health, Redis and the database as the API sees them, the site's
page, one hashed asset that page names, and a websocket upgrade to a session's
path. /api/health alone answers a constant (infra/app_contract.py): a release
whose Redis, database or frontend is broken passes it. Only what the app
serves without a credential and without a write is asked for; the facts each
probe rests on are in infra/app_contract.py with their sources.
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import httpx
from websockets.exceptions import InvalidStatus, WebSocketException
from websockets.sync.client import connect

from infra import app_contract as app
from infra.ops.releases.safe_http import Answer, describe, get, tls_context

# The attempts' defaults: pods may still be rolling when `up` returns.
ATTEMPTS = 10
INTERVAL_SECONDS = 6.0
TIMEOUT_SECONDS = 5.0
# After an (unexpected) 101 the probe closes at once; the close handshake may not hold it a whole timeout.
CLOSE_SECONDS = 1.0
# A session's path with a project id that exists nowhere: refused before any lookup.
WEBSOCKET_PROJECT = "smoke-check"
# /assets/<name>-<hash>.js or .css in a src= or href= of the built index.html (app.FRONTEND_HASHED_ASSETS).
HASHED_ASSET = re.compile(
    r"""(?:src|href)\s*=\s*["']?("""
    + re.escape(app.FRONTEND_ASSETS_PATH)
    + r"""[\w.-]+-[\w-]{8,}\.(?:js|css))["'\s>]"""
)


class ProbeFailed(Exception):
    """What was wrong with a probe's answer."""


@dataclass(frozen=True)
class Verdict:
    probe: str
    url: str
    ok: bool
    detail: str
    # False: the probe was not run, and detail says why (an app fact, not a pass).
    checked: bool = True

    def line(self) -> str:
        mark = "ok  " if self.ok else ("FAIL" if self.checked else "skip")
        return f"  {mark} {self.probe:<15} {self.url}  {self.detail}"


@dataclass(frozen=True)
class Probe:
    name: str
    path: str
    # The answer's check, given the probe's URL and the timeout: a detail to show, or ProbeFailed.
    check: Callable[[str, float], str]
    # Not run, for this reason (the app cannot answer it honestly yet).
    skip: str | None = None


def _answer(url: str, timeout: float, expected_type: str | None = None) -> Answer:
    answer = get(url, timeout=timeout)
    if answer.status != 200:
        raise ProbeFailed(f"HTTP {answer.status}, expected 200{_snippet(answer.body)}")
    if expected_type is not None and answer.content_type != expected_type:
        # A lost route falls through to the site, whose fallback answers any path with its page.
        raise ProbeFailed(
            f"HTTP 200 with {answer.content_type}, expected {expected_type}{_snippet(answer.body)}"
        )
    return answer


def _snippet(body: bytes) -> str:
    text = " ".join(body[:160].decode("utf-8", "replace").split())
    return f": {text!r}" if text else ""


def _json_status(url: str, timeout: float, expected: str) -> str:
    answer = _answer(url, timeout, "application/json")
    try:
        document = json.loads(answer.body)
    except ValueError:
        raise ProbeFailed(f"HTTP 200 but not JSON{_snippet(answer.body)}") from None
    state = document.get("status") if isinstance(document, dict) else None
    if state != expected:
        message = document.get("message") if isinstance(document, dict) else None
        said = f" ({str(message)[:200]})" if message else ""
        raise ProbeFailed(f"status {state!r}, expected {expected!r}{said}")
    return f"HTTP 200, status {state!r}"


def check_health(url: str, timeout: float) -> str:
    """The API's own answer, {"status": "ok"} (api/main.py:169-171), not the site's page."""
    return _json_status(url, timeout, "ok")


def check_component(url: str, timeout: float) -> str:
    """A dependency as the API sees it: its entry of the detailed health router says "healthy"."""
    return _json_status(url, timeout, app.COMPONENT_HEALTHY)


def hashed_asset(page: bytes) -> str | None:
    """The first hashed script or style the page names, as a path."""
    found = HASHED_ASSET.search(page.decode("utf-8", "replace"))
    return found.group(1) if found else None


def _page_asset(url: str, timeout: float) -> str:
    answer = _answer(url, timeout, "text/html")
    asset = hashed_asset(answer.body)
    if asset is None:
        raise ProbeFailed(
            f"HTTP 200 but the page names no hashed asset ({app.FRONTEND_ASSETS_PATH}<name>-<hash>.js)"
        )
    return asset


def check_page(url: str, timeout: float) -> str:
    return f"HTTP 200, names {_page_asset(url, timeout)}"


def check_asset(url: str, timeout: float) -> str:
    """One asset the page names (``url`` is the page's): from the same build, so it must be there."""
    asset_url = urllib.parse.urljoin(url, _page_asset(url, timeout))
    answer = get(asset_url, timeout=timeout, limit=1)
    if answer.status != 200:
        raise ProbeFailed(f"{asset_url}: HTTP {answer.status}, expected 200")
    if answer.content_type == "text/html":
        raise ProbeFailed(f"{asset_url}: HTTP 200 with text/html, the site's page instead of the asset")
    return f"{asset_url}: HTTP 200 {answer.content_type}"


def upgrade_status(url: str, timeout: float) -> int:
    """The status a websocket upgrade to ``url`` (http(s)) is answered with, within ``timeout`` s in all
    (and CLOSE_SECONDS more to close a session a 101 opened).

    websockets checks a 101 as RFC 6455 section 4.1 asks (Connection, Upgrade, and
    Sec-WebSocket-Accept against the key it sent: ``ClientProtocol.process_response``,
    websockets 17.4 client.py:143-172) and raises InvalidHandshake on any fault; any other status
    comes as InvalidStatus, its answer in ``.response`` (client.py:144-145, exceptions.py:313-325).
    ``open_timeout`` is one deadline for connect, TLS and handshake (sync/client.py:492, :406-410).
    """
    ws_url = "ws" + url.removeprefix("http")  # http -> ws, https -> wss
    tls = tls_context() if ws_url.startswith("wss:") else None  # websockets refuses one for ws:
    # A browser fails a websocket that is redirected; websockets follows the redirect
    # (``process_redirect``, sync/client.py:418-485, taken at :504-507, which rewrites ``uri``), so
    # a changed URI afterwards is a failure here.
    connecter = connect(
        ws_url, ssl=tls, open_timeout=timeout, close_timeout=CLOSE_SECONDS, ping_interval=None, legacy=False
    )
    try:
        with connecter:
            answered = 101  # no message is sent: leaving the block closes the session (close_timeout)
    except InvalidStatus as refused:
        answered = refused.response.status_code
    except WebSocketException as failed:  # a 101 that breaks RFC 6455, a malformed answer, a bad URI
        cause = f" ({failed.__cause__})" if failed.__cause__ else ""
        raise ProbeFailed(f"{type(failed).__name__}: {failed}{cause}") from None
    if connecter.uri != ws_url:
        raise ProbeFailed(f"the upgrade was redirected to {connecter.uri} (HTTP {answered} there)")
    return answered


def websocket_check(expected: int) -> Callable[[str, float], str]:
    """An upgrade answered with ``expected``: 101 (checked per RFC 6455), or the app's refusal."""

    def check(url: str, timeout: float) -> str:
        answered = upgrade_status(url, timeout)
        if answered != expected:
            why = _UNEXPECTED.get(answered, "")
            raise ProbeFailed(f"HTTP {answered} to the upgrade, expected {expected}{why}")
        return f"HTTP {answered} to the upgrade" + (
            " (refused without a token)" if expected == app.API_WEBSOCKET_UNAUTHENTICATED_STATUS else ""
        )

    return check


_UNEXPECTED = {
    101: " (a session opened without a token)",
    200: " (the site's page: the upgrade did not reach the API)",
    404: " (no websocket: the Upgrade header did not reach the API, or no such route)",
}


def probes(
    *,
    database: bool = app.DATABASE_HEALTH_REPORTS_THE_DATABASE,
    websocket_status: int = app.API_WEBSOCKET_UNAUTHENTICATED_STATUS,
) -> tuple[Probe, ...]:
    """The smoke check's probes; ``database``: whether the app's database health can be believed."""
    api = app.BROWSER_API_PREFIX
    database_skip = (
        None
        if database
        else (
            "the app's database health says 'unhealthy' whatever the database's state, and no other "
            "route reads the database without a credential or a write (infra/app_contract.py)"
        )
    )
    return (
        Probe("health", f"{api}{app.API_HEALTH_PATH}", check_health),
        Probe("database", f"{api}{app.API_DATABASE_HEALTH_PATH}", check_component, database_skip),
        Probe("redis", f"{api}{app.API_REDIS_HEALTH_PATH}", check_component),
        Probe("frontend page", app.FRONTEND_HEALTH_PATH, check_page),
        Probe("frontend asset", app.FRONTEND_HEALTH_PATH, check_asset),
        Probe(
            "websocket",
            f"{api}{app.API_WEBSOCKET_PATH}{WEBSOCKET_PROJECT}",
            websocket_check(websocket_status),
        ),
    )


def base_url(domain: str) -> str:
    return f"https://{domain}"


def health_url(domain: str) -> str:
    """The API's health as a browser reaches it: the site's /api, which the Ingress strips."""
    return f"{base_url(domain)}{app.BROWSER_API_PREFIX}{app.API_HEALTH_PATH}"


def run_probe(probe: Probe, base: str, timeout: float) -> Verdict:
    url = f"{base.rstrip('/')}{probe.path}"
    if probe.skip is not None:
        return Verdict(probe.name, url, False, f"not checked: {probe.skip}", checked=False)
    try:
        return Verdict(probe.name, url, True, probe.check(url, timeout))
    except ProbeFailed as failure:
        return Verdict(probe.name, url, False, str(failure))
    except httpx.HTTPError as error:  # refused, reset, TLS, DNS, a malformed answer (RequestError's kinds)
        return Verdict(probe.name, url, False, describe(error))
    except OSError as error:  # the overall deadline; the websocket's refused, reset, TLS, DNS
        return Verdict(probe.name, url, False, str(error))


@dataclass(frozen=True)
class SmokeResult:
    base: str
    verdicts: tuple[Verdict, ...]
    attempts: int

    @property
    def failed(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.checked and not v.ok)

    @property
    def skipped(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if not v.checked)

    @property
    def healthy(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        # A probe not checked is named in the verdict too: "healthy" alone would read as every
        # part checked, and a release whose unchecked part is broken would pass unremarked.
        unchecked = ", ".join(v.probe for v in self.skipped)
        unseen = f"; NOT CHECKED: {unchecked}" if unchecked else ""
        if self.healthy:
            passed = sum(v.ok for v in self.verdicts)
            return (
                f"smoke check {self.base}: healthy ({passed} probes passed, attempt {self.attempts})" + unseen
            )
        names = ", ".join(v.probe for v in self.failed)
        tries = f"{self.attempts} attempt{'s' if self.attempts != 1 else ''}"
        return f"smoke check {self.base}: UNHEALTHY after {tries}: {names} failed" + unseen


def attempts_of(
    base: str, checks: Sequence[Probe], *, attempts: int, interval: float, timeout: float
) -> Iterator[tuple[int, tuple[Verdict, ...]]]:
    """Every probe, once per attempt, until an attempt passes all of them or attempts run out."""
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, not {attempts}")
    for attempt in range(1, attempts + 1):
        verdicts = tuple(run_probe(probe, base, timeout) for probe in checks)
        yield attempt, verdicts
        if all(v.ok or not v.checked for v in verdicts):
            return
        if attempt < attempts:
            time.sleep(interval)


def smoke_check(
    base: str,
    checks: Sequence[Probe] | None = None,
    *,
    attempts: int = ATTEMPTS,
    interval: float = INTERVAL_SECONDS,
    timeout: float = TIMEOUT_SECONDS,
    report: Callable[[str], None] = lambda line: None,
) -> SmokeResult:
    """Run the probes against ``base`` (scheme://host); ``report`` gets each attempt's lines."""
    chosen = tuple(probes() if checks is None else checks)
    last: tuple[int, tuple[Verdict, ...]] = (0, ())
    for attempt, verdicts in attempts_of(base, chosen, attempts=attempts, interval=interval, timeout=timeout):
        last = (attempt, verdicts)
        failing = [v for v in verdicts if v.checked and not v.ok]
        shown = verdicts if attempt == 1 or not failing else failing
        report(f"attempt {attempt}/{attempts}: {len(failing)} of {len(verdicts)} probes failing")
        for verdict in shown:
            report(verdict.line())
    return SmokeResult(base, last[1], last[0])
