"""The smoke check's probes against a stand-in for the app on loopback, with each failure planted on purpose.

The stand-in answers as the app and the site do at the app contract's commit
(infra/app_contract.py): JSON from the API's health and its detailed health's
components, the built page naming a hashed script, that script, and a
websocket upgrade (101 with the RFC 6455 accept, or the API's 403 without a
token). Each fault breaks one answer; the probe that reads it must fail and
say so by name, and the others must still pass.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import http.server
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from infra import app_contract as app
from infra.ops.releases import smoke

ASSET = "/assets/index-B4f9xZ2q.js"
# The built page (vite 5.4's plugins/html.ts:716-724 writes the entry as a module script).
PAGE = (
    f'<!doctype html><html><head><script type="module" crossorigin src="{ASSET}"></script>'
    '<link rel="stylesheet" crossorigin href="/assets/index-C1aB2c3D.css"></head>'
    '<body><div id="root"></div></body></html>'
)
# The unbuilt page (the app's frontend/index.html:11): it names the source, no hashed asset.
SOURCE_PAGE = '<!doctype html><div id="root"></div><script type="module" src="/src/main.tsx"></script>'
WS_PATH = f"{app.BROWSER_API_PREFIX}{app.API_WEBSOCKET_PATH}{smoke.WEBSOCKET_PROJECT}"
# RFC 6455 section 1.3: what a server answers a key with (computed here, not by the client under test).
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
COMPONENTS = {
    f"{app.BROWSER_API_PREFIX}{app.API_DATABASE_HEALTH_PATH}": "database",
    f"{app.BROWSER_API_PREFIX}{app.API_REDIS_HEALTH_PATH}": "redis",
}


class StandIn(http.server.BaseHTTPRequestHandler):
    # As uvicorn answers; websockets takes a handshake's answer in HTTP/1.1 alone (RFC 6455 section 4.1).
    protocol_version = "HTTP/1.1"
    # Set per server: which answer to break (see FAULTS).
    fault: str = ""
    websocket_status: int = 101

    def send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def component(self, name: str) -> None:
        if self.fault == f"{name} down":
            self.send(500 if name == "database" else 503, "application/json", b'{"detail": "boom"}')
        elif self.fault == f"{name} unhealthy":
            body = f'{{"name": "{name}", "status": "unhealthy", "message": "connection refused"}}'
            self.send(200, "application/json", body.encode())
        else:
            self.send(200, "application/json", f'{{"name": "{name}", "status": "healthy"}}'.encode())

    def upgrade(self) -> None:
        if self.fault == "websocket redirect" and not self.path.startswith("/moved"):
            self.send_response(307)
            self.send_header("Location", f"/moved{self.path}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.fault in {"websocket 200", "websocket 404"} or self.headers.get("Upgrade") != "websocket":
            status = 200 if self.fault == "websocket 200" else 404
            self.send(status, "text/html" if status == 200 else "application/json", b"{}")
            return
        if self.websocket_status != 101:
            self.send(self.websocket_status, "text/plain", b"")
            return
        key = self.headers["Sec-WebSocket-Key"] + ("x" if self.fault == "websocket accept" else "")
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.close_connection = True

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == f"{app.BROWSER_API_PREFIX}{app.API_HEALTH_PATH}":
            self.send(200, "application/json", b'{"status": "ok"}')
        elif path in COMPONENTS:
            self.component(COMPONENTS[path])
        elif path in {WS_PATH, f"/moved{WS_PATH}"}:
            self.upgrade()
        elif path == ASSET:
            status = 404 if self.fault == "asset missing" else 200
            self.send(status, "text/javascript", b"console.log(1)" if status == 200 else b"")
        elif path.endswith((".js", ".css")):
            self.send(404, "text/html", b"<h1>404</h1>")
        else:
            # The SPA fallback: any other path is the page (frontend/nginx.conf:11-12).
            page = SOURCE_PAGE if self.fault == "page without asset" else PAGE
            self.send(200, "text/html", page.encode())

    def log_message(self, *_: object) -> None:
        pass


@contextmanager
def stand_in(fault: str = "", websocket_status: int = 101) -> Iterator[str]:
    handler = type("Handler", (StandIn,), {"fault": fault, "websocket_status": websocket_status})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def run(base: str, **probes: Any) -> smoke.SmokeResult:
    checks = smoke.probes(**{"database": True, "websocket_status": 101, **probes})
    return smoke.smoke_check(base, checks, attempts=1, interval=0, timeout=5)


def test_a_healthy_release_passes_every_probe() -> None:
    with stand_in() as base:
        result = run(base)
    assert result.healthy, [v.line() for v in result.failed]
    assert [v.probe for v in result.verdicts] == [
        "health",
        "database",
        "redis",
        "frontend page",
        "frontend asset",
        "websocket",
    ]
    assert all(v.ok and v.checked for v in result.verdicts)
    asset = next(v for v in result.verdicts if v.probe == "frontend asset")
    assert asset.detail.startswith(f"{base}{ASSET}: HTTP 200")


# (the fault planted, the one probe it fails, what its message says)
FAULTS = [
    pytest.param("database down", "database", "HTTP 500, expected 200", id="database route 500"),
    pytest.param("database unhealthy", "database", "status 'unhealthy'", id="database unhealthy"),
    pytest.param("redis down", "redis", "HTTP 503, expected 200", id="redis route 503"),
    pytest.param("redis unhealthy", "redis", "(connection refused)", id="redis unhealthy"),
    pytest.param("asset missing", "frontend asset", f"{ASSET}: HTTP 404", id="asset 404"),
    pytest.param("websocket 200", "websocket", "HTTP 200 to the upgrade, expected 101", id="ws 200"),
    pytest.param("websocket 404", "websocket", "HTTP 404 to the upgrade, expected 101", id="ws 404"),
    pytest.param("websocket accept", "websocket", "invalid Sec-WebSocket-Accept header", id="wrong accept"),
    pytest.param("websocket redirect", "websocket", "the upgrade was redirected to ws://", id="ws redirect"),
]


@pytest.mark.parametrize(("fault", "probe", "said"), FAULTS)
def test_each_planted_fault_fails_its_own_probe_and_names_it(fault: str, probe: str, said: str) -> None:
    with stand_in(fault) as base:
        result = run(base)
    assert [v.probe for v in result.failed] == [probe]
    (failed,) = result.failed
    assert said in failed.detail, failed.detail
    assert failed.url.startswith(base)
    assert f"FAIL {probe}" in failed.line()
    assert probe in result.summary()


def test_a_page_without_a_hashed_asset_fails_the_page_and_the_asset() -> None:
    with stand_in("page without asset") as base:
        result = run(base)
    assert [v.probe for v in result.failed] == ["frontend page", "frontend asset"]
    assert all("names no hashed asset" in v.detail for v in result.failed)


def test_without_a_token_the_upgrade_must_be_the_apis_refusal() -> None:
    # The app's own answer: no token, no session (infra/app_contract.py).
    with stand_in(websocket_status=403) as base:
        assert run(base, websocket_status=403).healthy
    # A session opened without a token is a failure, as is the site's page.
    with stand_in() as base:
        opened = run(base, websocket_status=403).failed
    assert [(v.probe, v.detail) for v in opened] == [
        ("websocket", "HTTP 101 to the upgrade, expected 403 (a session opened without a token)")
    ]
    with stand_in("websocket 200", websocket_status=403) as base:
        (lost,) = run(base, websocket_status=403).failed
    assert "the upgrade did not reach the API" in lost.detail


def test_the_database_probe_is_not_checked_while_the_apps_health_cannot_see_it() -> None:
    assert not app.DATABASE_HEALTH_REPORTS_THE_DATABASE
    with stand_in("database down", websocket_status=403) as base:
        result = smoke.smoke_check(base, smoke.probes(), attempts=1, timeout=5)
    (database,) = result.skipped
    assert database.probe == "database"
    assert not database.ok
    assert database.detail.startswith("not checked: ")
    assert "skip database" in database.line()
    assert result.healthy
    # The verdict names what it did not see: "healthy" is not "the database is fine".
    assert result.summary().endswith("; NOT CHECKED: database")


def test_the_check_retries_until_one_attempt_passes_every_probe() -> None:
    answers = iter([503, 200, 200])

    class Rolling(StandIn):
        def component(self, name: str) -> None:
            status = next(answers) if name == "redis" else 200
            self.send(status, "application/json", b'{"status": "healthy"}')

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Rolling)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    lines: list[str] = []
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        checks = smoke.probes(database=False, websocket_status=101)
        result = smoke.smoke_check(base, checks, attempts=3, interval=0.01, timeout=5, report=lines.append)
    finally:
        server.shutdown()
        server.server_close()
    assert (result.healthy, result.attempts) == (True, 2)
    assert lines[0] == "attempt 1/3: 1 of 6 probes failing"
    assert any(line.startswith("  FAIL redis") for line in lines)
    assert "attempt 2/3: 0 of 6 probes failing" in lines


def test_attempts_below_one_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        smoke.smoke_check("http://127.0.0.1:9", smoke.probes(), attempts=0)


def test_a_closed_port_fails_every_checked_probe_by_name() -> None:
    with stand_in() as base:
        pass  # the server is gone: its port refuses
    result = run(base)
    assert len(result.failed) == 6
    # The refusal itself, not only the library's summary of it.
    assert all(f"[Errno {errno.ECONNREFUSED}]" in v.detail for v in result.failed), result.failed


def test_the_hashed_asset_is_found_as_vite_writes_it() -> None:
    assert smoke.hashed_asset(PAGE.encode()) == ASSET
    assert smoke.hashed_asset(SOURCE_PAGE.encode()) is None
    # An unhashed name is no build's own file.
    assert smoke.hashed_asset(b'<script src="/assets/index.js"></script>') is None


def test_a_malformed_answer_fails_its_probe_without_a_traceback() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)

    def serve() -> None:
        for _ in range(2):
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                connection.recv(4096)
                connection.sendall(b"SPAM 200 OK\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{listener.getsockname()[1]}"
    checks = [p for p in smoke.probes(websocket_status=101) if p.name in {"health", "websocket"}]
    try:
        result = smoke.smoke_check(base, checks, attempts=1, timeout=5)
    finally:
        listener.close()
        thread.join(timeout=5)
    details = {v.probe: v.detail for v in result.failed}
    assert details["health"].startswith("RemoteProtocolError: illegal status line"), details
    assert details["websocket"].startswith("InvalidMessage: did not receive a valid HTTP response"), details
    assert "SPAM 200 OK" in details["websocket"]
