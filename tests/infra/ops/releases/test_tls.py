"""The smoke and registry checks verify TLS: a loopback server whose certificate no trusted root
signed fails the HTTP probes, the websocket probe and the registry check alike, and the same
server passes all three once its certificate is trusted (so the refusal is the certificate's)."""

from __future__ import annotations

import http.server
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.ops.releases import safe_http, smoke
from infra.ops.releases.registry import RegistryError, manifest_exists
from tests.infra.providers.yandex.fake_cloud import certificate

DIGEST = "sha256:" + "cd" * 32


class Answers(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self) -> None:
        # The API's health, its refusal of an upgrade without a token, a manifest that exists.
        upgrade = self.headers.get("Upgrade") == "websocket"
        body = b"" if upgrade or self.command == "HEAD" else b'{"status": "ok"}'
        self.send_response(403 if upgrade else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_HEAD = answer

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def self_signed(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTPS server on loopback with a self-signed certificate, and that certificate's file."""
    pem, key_pem, roots = certificate(tmp_path)
    (tmp_path / "cert.pem").write_bytes(pem)
    (tmp_path / "key.pem").write_bytes(key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answers)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", roots
    finally:
        server.shutdown()
        server.server_close()


def check(host: str) -> tuple[smoke.SmokeResult, str]:
    """The health and websocket probes over https, and the registry's verdict (or its error)."""
    probes = [p for p in smoke.probes(websocket_status=403) if p.name in {"health", "websocket"}]
    result = smoke.smoke_check(f"https://{host}", probes, attempts=1, interval=0, timeout=5)
    try:
        registry = str(manifest_exists(f"{host}/samokoder/api@{DIGEST}", "a-token", timeout=5))
    except RegistryError as error:
        registry = str(error)
    return result, registry


def test_a_certificate_no_trusted_root_signed_fails_every_check(self_signed: tuple[str, Path]) -> None:
    host, _ = self_signed
    result, registry = check(host)
    assert [v.probe for v in result.failed] == ["health", "websocket"]
    assert all("CERTIFICATE_VERIFY_FAILED" in v.detail for v in result.failed), result.failed
    assert "CERTIFICATE_VERIFY_FAILED" in registry


def test_the_same_server_passes_once_its_certificate_is_trusted(
    self_signed: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    host, roots = self_signed
    trusted = ssl.create_default_context(cafile=roots)
    # One context serves both libraries (safe_http.tls_context); smoke took its own name for it.
    monkeypatch.setattr(safe_http, "tls_context", lambda: trusted)
    monkeypatch.setattr(smoke, "tls_context", lambda: trusted)
    result, registry = check(host)
    assert result.healthy, result.failed
    assert registry == "True"
