"""Starting a real server for a test and stopping it, whatever happens."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


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
