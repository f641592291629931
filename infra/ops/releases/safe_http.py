"""HTTP(S) for the smoke and registry checks: httpx, set up so that a credential stays with its
origin and an answer comes within one deadline. Upstream lines are httpx 0.29.0's and CPython 3.11's.

- Authorization: httpx drops it on a redirect to another origin (scheme, host and port:
  ``_same_origin``, httpx/_client.py:83-91; ``_redirect_headers``, :546-571), except on an upgrade
  from http on port 80 to https on port 443 of the same host (``_is_https_redirect``, :62-74). That
  exception shows the token to nobody new: the first request has already sent it to that host in
  clear, and the second sends it to the same host under TLS verified for that name. The registry
  is asked over https anyway (http only in tests).
- Cookie: httpx never copies a Cookie header onto a redirect (:567-569) but sends whatever its
  cookie jar holds for the new URL (``_build_redirect_request``, :484), and a jar matches by domain,
  not by port or scheme. The jar here accepts no cookie (``DefaultCookiePolicy`` with no allowed
  domain refuses every one: http/cookiejar.py:941-947, :1019-1021).
- Deadline: httpx's timeouts bound each connect, read and write, and a server that trickles a byte
  at a time restarts the read's with every byte: the request runs as an asyncio task cancelled at
  the deadline, all of it (connect, redirects, body) within ``timeout`` seconds.
- TLS: verified against the system's store (websockets' own default:
  websockets/sync/client.py:357-358), not the certifi bundle httpx would load (httpx/_config.py:40);
  one context for every request and the websocket probe, as loading a store takes a tenth of a second.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import http.cookiejar
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import httpx

T = TypeVar("T")


@functools.cache
def tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def within(timeout: float, work: Callable[[httpx.AsyncClient], Awaitable[T]]) -> T:
    """``work(client)``'s result, or a TimeoutError when it has none within ``timeout`` seconds in all."""

    async def run() -> T:
        async with (
            asyncio.timeout(timeout),
            httpx.AsyncClient(
                follow_redirects=True,
                timeout=timeout,
                verify=tls_context(),
                cookies=http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=())),
            ) as client,
        ):
            return await work(client)

    # A loop of its own, never made the thread's current one: asyncio.run would set and then clear
    # it (asyncio/runners.py:136-142, :75), and a later asyncio.get_event_loop() in the same
    # process (Pulumi's runtime) would find none.
    # Not asyncio.Runner: its close() joins the default executor's threads with no limit
    # (asyncio/runners.py:73, base_events.py shutdown_default_executor), and a getaddrinfo stuck
    # there (anyio resolves through loop.getaddrinfo) would outlast the deadline.
    loop = asyncio.new_event_loop()
    resolver = concurrent.futures.ThreadPoolExecutor(thread_name_prefix="safe-http")
    loop.set_default_executor(resolver)
    try:
        return loop.run_until_complete(run())
    except TimeoutError:
        raise TimeoutError(f"no complete answer within {timeout:g} s") from None
    finally:
        for task in asyncio.all_tasks(loop):
            task.cancel()
        loop.run_until_complete(loop.shutdown_asyncgens())
        resolver.shutdown(wait=False, cancel_futures=True)
        loop.close()


def describe(error: httpx.HTTPError) -> str:
    """The error's kind and message, and what it stems from when that says more.

    A refused connection comes as "All connection attempts failed" (anyio's message); the refusal
    itself, errno and address, is at the bottom of the exception's chain.
    """
    root: BaseException = error
    while (below := root.__cause__ or root.__context__) is not None:
        root = below
    said = f"{type(error).__name__}: {error}"
    return said if str(root) in said else f"{said} ({root})"


def status(url: str, *, method: str, headers: Mapping[str, str], timeout: float) -> int:
    """The answer's HTTP status, within ``timeout`` seconds in all."""

    async def ask(client: httpx.AsyncClient) -> int:
        return (await client.request(method, url, headers=headers)).status_code

    return within(timeout, ask)


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes


def get(url: str, *, timeout: float, limit: int = 1 << 20) -> Answer:
    """GET ``url`` (redirects followed): status, media type and at most ``limit`` bytes of the body."""

    async def fetch(client: httpx.AsyncClient) -> Answer:
        async with client.stream("GET", url) as response:
            body = b""
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) >= limit:
                    break
            media = response.headers.get("Content-Type", "").partition(";")[0].strip().lower()
            return Answer(response.status_code, media or "no Content-Type", body[:limit])

    return within(timeout, fetch)
