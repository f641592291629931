"""A websocket opening handshake (RFC 6455 section 4), stdlib only: the answer's status and its verdict.

The handshake is one HTTP/1.1 GET with ``Upgrade: websocket``; a server that
accepts answers 101 with ``Sec-WebSocket-Accept``, the base64 SHA-1 of the
key and the protocol's GUID (RFC 6455 section 4.2.2 step 5.4), which the
client must check (section 4.1: otherwise it fails the connection). Nothing
is sent after the handshake: the connection is closed as soon as the
answer's headers are in.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import ssl
import urllib.parse
from dataclasses import dataclass

from infra.ops.releases.safe_http import within

# RFC 6455 section 1.3.
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# The answer's head ends within this; a server that sends more is not answering a handshake.
HEAD_LIMIT = 16 * 1024


def accept_for(key: str) -> str:
    """The Sec-WebSocket-Accept a server must answer ``key`` with."""
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()  # RFC 6455 names SHA-1


@dataclass(frozen=True)
class Handshake:
    status: int
    headers: dict[str, str]  # lower-cased names
    key: str

    def accept_problem(self) -> str | None:
        """What is wrong with a 101 answer (RFC 6455 section 4.1), or None."""
        if self.headers.get("upgrade", "").lower() != "websocket":
            return f"101 without Upgrade: websocket (got {self.headers.get('upgrade')!r})"
        if "upgrade" not in self.headers.get("connection", "").lower():
            return f"101 without Connection: Upgrade (got {self.headers.get('connection')!r})"
        expected = accept_for(self.key)
        if self.headers.get("sec-websocket-accept") != expected:
            got = self.headers.get("sec-websocket-accept")
            return f"Sec-WebSocket-Accept {got!r}, expected {expected!r} for the key sent"
        return None


def _connect(url: urllib.parse.SplitResult, timeout: float) -> socket.socket:
    secure = url.scheme in {"https", "wss"}
    port = url.port or (443 if secure else 80)
    raw = socket.create_connection((url.hostname or "", port), timeout=timeout)
    if not secure:
        return raw
    try:
        return ssl.create_default_context().wrap_socket(raw, server_hostname=url.hostname)
    except BaseException:
        raw.close()
        raise


def _head(connection: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(4096)
        if not chunk:
            raise ConnectionError("the connection closed before the answer's headers ended")
        data += chunk
        if len(data) > HEAD_LIMIT:
            raise ConnectionError(f"no end of the answer's headers within {HEAD_LIMIT} bytes")
    return data.split(b"\r\n\r\n", 1)[0]


def _parse(head: bytes, key: str) -> Handshake:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ConnectionError(f"not an HTTP answer: {lines[0][:80]!r}")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Handshake(int(parts[1]), headers, key)


def handshake(url: str, *, timeout: float) -> Handshake:
    """Open a websocket to ``url`` (http(s) or ws(s)) and read the answer, within ``timeout`` s in all."""
    parts = urllib.parse.urlsplit(url)
    key = base64.b64encode(os.urandom(16)).decode()
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    request = (
        f"GET {target} HTTP/1.1\r\n"
        f"Host: {parts.netloc}\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        "\r\n"
    )

    def exchange() -> Handshake:
        with _connect(parts, timeout) as connection:
            connection.sendall(request.encode("ascii"))
            return _parse(_head(connection), key)

    return within(timeout, exchange, "websocket-handshake")
