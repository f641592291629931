"""No credential follows a redirect to another origin: a loopback server redirects to a second
loopback server that records the headers it gets; the token never arrives there, neither as the
registry's Authorization nor as a cookie the first server set (infra/ops/releases/safe_http.py)."""

from __future__ import annotations

import base64
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import httpx
import pytest

from infra.ops.releases.registry import RegistryError, manifest_exists
from infra.ops.releases.smoke import Probe, check_health, smoke_check

TOKEN = "t1.CANARY-iam-token-9f3b"
DIGEST = "sha256:" + "ab" * 32


@contextmanager
def serve(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def recorder(seen: list[dict[str, str]]) -> type[http.server.BaseHTTPRequestHandler]:
    class Record(http.server.BaseHTTPRequestHandler):
        def answer(self) -> None:
            seen.append(dict(self.headers.items()))
            # The API's health answer, which the smoke check reads; a HEAD gets its headers alone.
            body = b'{"status": "ok"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command == "GET":
                self.wfile.write(body)

        do_GET = do_HEAD = answer

        def log_message(self, *args: object) -> None:
            pass

    return Record


def redirector(target: str, code: int, cookie: bool = False) -> type[http.server.BaseHTTPRequestHandler]:
    class Redirect(http.server.BaseHTTPRequestHandler):
        def answer(self) -> None:
            self.send_response(code)
            if cookie:
                self.send_header("Set-Cookie", f"session={TOKEN}; Path=/")
            self.send_header("Location", f"http://{target}{self.path}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_HEAD = answer

        def log_message(self, *args: object) -> None:
            pass

    return Redirect


def carries_token(headers: dict[str, str]) -> bool:
    encoded = base64.b64encode(f"iam:{TOKEN}".encode()).decode()
    text = "\n".join(f"{k}: {v}" for k, v in headers.items())
    return TOKEN in text or encoded in text


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_a_registry_redirect_to_another_host_does_not_carry_the_token(code: int) -> None:
    seen: list[dict[str, str]] = []
    # 127.0.0.1 and localhost are two origins to httpx, as two hosts would be.
    with (
        serve(recorder(seen)) as second,
        serve(redirector(second.replace("127.0.0.1", "localhost"), code)) as first,
        suppress(RegistryError),
    ):
        manifest_exists(f"{first}/samokoder/api@{DIGEST}", TOKEN, scheme="http", timeout=5)
    assert seen, "the redirect was not followed: the test proves nothing"
    assert not any(carries_token(headers) for headers in seen), seen


def test_a_same_origin_redirect_keeps_the_token() -> None:
    # The stripping is by origin, not a blanket refusal: the registry's own redirects still work.
    seen: list[dict[str, str]] = []

    class SameOrigin(http.server.BaseHTTPRequestHandler):
        def answer(self) -> None:
            if self.path.startswith("/moved"):
                seen.append(dict(self.headers.items()))
                self.send_response(200)
            else:
                self.send_response(307)
                self.send_header("Location", f"/moved{self.path}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        # The registry asks with HEAD, and httpx keeps HEAD on every redirect
        # (``_redirect_method``, httpx 0.29.0 _client.py:494-515).
        do_GET = do_HEAD = answer

        def log_message(self, *args: object) -> None:
            pass

    with serve(SameOrigin) as first:
        assert manifest_exists(f"{first}/samokoder/api@{DIGEST}", TOKEN, scheme="http", timeout=5)
    assert seen
    assert carries_token(seen[-1])


def test_the_smoke_check_follows_a_redirect_without_credentials() -> None:
    seen: list[dict[str, str]] = []
    with (
        serve(recorder(seen)) as second,
        serve(redirector(second.replace("127.0.0.1", "localhost"), 302)) as first,
    ):
        probe = Probe("health", "/api/health", check_health)
        result = smoke_check(f"http://{first}", (probe,), attempts=1, interval=0, timeout=5)
    assert result.healthy, result.failed
    assert seen
    assert not any(carries_token(headers) for headers in seen)


@pytest.mark.parametrize("check", ["smoke", "registry"])
def test_a_cookie_set_before_a_redirect_does_not_follow_it_to_another_port(check: str) -> None:
    # Same host, another port: another origin, but a cookie jar matches by domain alone.
    seen: list[dict[str, str]] = []
    with serve(recorder(seen)) as second, serve(redirector(second, 302, cookie=True)) as first:
        if check == "smoke":
            probe = Probe("health", "/api/health", check_health)
            assert smoke_check(f"http://{first}", (probe,), attempts=1, interval=0, timeout=5).healthy
        else:
            assert manifest_exists(f"{first}/samokoder/api@{DIGEST}", "other", scheme="http", timeout=5)
    assert seen, "the redirect was not followed: the test proves nothing"
    assert not any(carries_token(headers) for headers in seen), seen


def test_httpxs_own_cookie_jar_would_have_carried_it() -> None:
    # What the jar that accepts no cookie is for: httpx's default one sends the cookie on.
    seen: list[dict[str, str]] = []
    with (
        serve(recorder(seen)) as second,
        serve(redirector(second, 302, cookie=True)) as first,
        httpx.Client(follow_redirects=True) as client,
    ):
        client.get(f"http://{first}/x")
    assert any(carries_token(headers) for headers in seen)


def test_plain_urllib_would_have_carried_it() -> None:
    # The servers above do see a leak when there is one: urllib's own redirects copy the header.
    import urllib.request  # noqa: PLC0415

    seen: list[dict[str, str]] = []
    with (
        serve(recorder(seen)) as second,
        serve(redirector(second.replace("127.0.0.1", "localhost"), 302)) as first,
    ):
        request = urllib.request.Request(f"http://{first}/x", headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, timeout=5):
            pass
    assert any(carries_token(headers) for headers in seen)
