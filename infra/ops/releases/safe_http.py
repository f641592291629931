"""HTTP(S) requests whose credentials stay with the host they were meant for.

``urllib.request.urlopen`` follows redirects and copies every header of the
request onto the redirected one (``HTTPRedirectHandler.redirect_request`` in
CPython's Lib/urllib/request.py builds the new Request from ``req.headers``),
so an ``Authorization`` header goes wherever a ``Location`` points. Here a
redirect to another origin (scheme, host or port) loses every credential
header; one to the same origin keeps them.
"""

from __future__ import annotations

import queue
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from http.client import HTTPMessage
from typing import IO, Any, TypeVar

T = TypeVar("T")

# Headers that carry a credential, in the capitalised form urllib stores them in.
CREDENTIAL_HEADERS = ("Authorization", "Proxy-authorization", "Cookie")


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


class CredentialStrippingRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(  # noqa: PLR0917  (urllib's signature)
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        redirected = super().redirect_request(req, fp, code, msg, headers, newurl)
        if redirected is not None and origin(redirected.full_url) != origin(req.full_url):
            for name in CREDENTIAL_HEADERS:
                redirected.remove_header(name)
        return redirected


_OPENER = urllib.request.build_opener(CredentialStrippingRedirects())


def urlopen(request: urllib.request.Request | str, *, timeout: float, **kwargs: Any) -> Any:
    """``urllib.request.urlopen`` whose redirects never carry a credential to another origin."""
    return _OPENER.open(request, timeout=timeout, **kwargs)


def within(timeout: float, work: Callable[[], T], name: str = "http") -> T:
    """``work()``'s result, or a TimeoutError when it has none within ``timeout`` seconds in all.

    ``urlopen``'s timeout bounds each socket read, and a server that trickles a
    byte at a time restarts it with every byte: the work runs in a daemon
    thread and is given up at the deadline (the thread ends with its socket's
    own timeout, or with the process).
    """
    outcome: queue.Queue[tuple[T, None] | tuple[None, BaseException]] = queue.Queue(maxsize=1)

    def run() -> None:
        try:
            outcome.put((work(), None))
        except BaseException as error:  # handed to the caller's thread as it is
            outcome.put((None, error))

    threading.Thread(target=run, name=name, daemon=True).start()
    try:
        result, error = outcome.get(timeout=timeout)
    except queue.Empty:
        raise TimeoutError(f"no complete answer within {timeout:g} s") from None
    if error is not None:
        raise error
    return result  # type: ignore[return-value]  # set whenever error is None


def status(request: urllib.request.Request | str, *, timeout: float) -> int:
    """The answer's HTTP status, within ``timeout`` seconds in all."""

    def fetch() -> int:
        try:
            with urlopen(request, timeout=timeout) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code

    return within(timeout, fetch, "http-status")


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes


def get(url: str, *, timeout: float, limit: int = 1 << 20) -> Answer:
    """GET ``url`` (redirects followed as ``urlopen`` does): status, type and at most ``limit`` bytes."""

    def fetch() -> Answer:
        try:
            with urlopen(url, timeout=timeout) as response:
                return Answer(int(response.status), response.headers.get_content_type(), response.read(limit))
        except urllib.error.HTTPError as error:
            with error:
                return Answer(error.code, error.headers.get_content_type(), error.read(limit))

    return within(timeout, fetch, "http-get")
