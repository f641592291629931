"""Starting a real server for a test and stopping it, whatever happens."""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, wait
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(
    command: Sequence[str], log: Path, ready: Callable[[], bool], timeout: float = 30
) -> Iterator[None]:
    """Run ``command`` until the block ends; fail with its log if it exits or is not ready in time."""
    with log.open("w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while not ready():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"{Path(command[0]).name} did not get ready:\n{log.read_text()}")
                time.sleep(0.1)
            yield
        finally:
            process.terminate()
            process.wait(timeout=15)


Handle = Callable[[http.server.BaseHTTPRequestHandler], None]


@contextmanager
def serving_http(handle: Handle) -> Iterator[str]:
    """A loopback HTTP server answering GET and HEAD with ``handle``; yields host:port."""

    class Requests(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            handle(self)

        def do_HEAD(self) -> None:
            handle(self)

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Requests)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def send_json(request: http.server.BaseHTTPRequestHandler, body: object, status: int = 200) -> None:
    data = json.dumps(body).encode()
    request.send_response(status)
    request.send_header("Content-Type", "application/json")
    request.send_header("Content-Length", str(len(data)))
    request.end_headers()
    request.wfile.write(data)


def settle(futures: Iterable[Future[Any]]) -> None:
    """Cancel the jobs that have not started and wait for those that have; errors stay in their futures."""
    wait([future for future in futures if not future.cancel()])
