"""A server that trickles its answer a byte at a time cannot hold the smoke or registry check.

httpx's timeouts bound each socket read, and every byte restarts it; the HTTP
checks give up at an overall deadline instead (infra/ops/releases/safe_http.py),
and the websocket probe at the one websockets keeps for its opening handshake.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from infra.ops.releases.registry import RegistryError, manifest_exists
from infra.ops.releases.smoke import Probe, check_health, smoke_check, websocket_check

# The server stops by itself: at most this many bytes, one every TRICKLE_SECONDS.
TRICKLE_BYTES = 60
TRICKLE_SECONDS = 0.2


@pytest.fixture
def trickling_server() -> Iterator[str]:
    """A loopback HTTP server whose headers never end: one byte of them every 0.2 s."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)
    stop = threading.Event()

    def serve() -> None:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        with connection:
            connection.recv(4096)
            header = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * TRICKLE_BYTES
            for byte in header:
                if stop.is_set():
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(TRICKLE_SECONDS)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    host, port = listener.getsockname()
    yield f"http://{host}:{port}"
    stop.set()
    listener.close()
    thread.join(timeout=5)


def test_the_smoke_check_gives_up_on_a_trickle_at_its_deadline(trickling_server: str) -> None:
    started = time.monotonic()
    probe = Probe("health", "/api/health", check_health)
    result = smoke_check(trickling_server, (probe,), attempts=1, timeout=1.0)
    took = time.monotonic() - started
    assert not result.healthy
    assert "no complete answer within 1 s" in result.failed[0].detail
    # Each byte comes within the socket timeout: only the overall deadline stops it.
    assert TRICKLE_SECONDS < 1.0
    assert took < 3, took


def test_the_websocket_probe_gives_up_on_a_trickle_at_its_deadline(trickling_server: str) -> None:
    started = time.monotonic()
    probe = Probe("websocket", "/api/v1/ws/smoke-check", websocket_check(403))
    result = smoke_check(trickling_server, (probe,), attempts=1, timeout=1.0)
    assert not result.healthy
    assert "timed out" in result.failed[0].detail, result.failed[0].detail
    assert time.monotonic() - started < 3


def test_the_registry_check_gives_up_on_a_trickle_at_its_deadline(trickling_server: str) -> None:
    reference = f"{trickling_server.removeprefix('http://')}/registry/api@sha256:{'0' * 64}"
    started = time.monotonic()
    with pytest.raises(RegistryError, match="no complete answer within 1 s"):
        manifest_exists(reference, "a-token", scheme="http", timeout=1.0)
    assert time.monotonic() - started < 3
