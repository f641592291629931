"""The smoke check after an update or a rollback: the API's health through the public ingress."""

from __future__ import annotations

import time
import urllib.error
from dataclasses import dataclass

from infra.app_contract import API_HEALTH_PATH, BROWSER_API_PREFIX
from infra.ops.releases.safe_http import status


def health_url(domain: str) -> str:
    """The API's health as a browser reaches it: the site's /api, which the Ingress strips."""
    return f"https://{domain}{BROWSER_API_PREFIX}{API_HEALTH_PATH}"


@dataclass(frozen=True)
class SmokeResult:
    url: str
    healthy: bool
    attempts: int
    detail: str


def check_health(url: str, *, attempts: int = 10, interval: float = 6.0, timeout: float = 5.0) -> SmokeResult:
    """GET ``url`` until it answers 200, at most ``attempts`` times; pods may still be rolling."""
    detail = ""
    for attempt in range(1, attempts + 1):
        try:
            code = status(url, timeout=timeout)
            if code == 200:
                return SmokeResult(url, True, attempt, "HTTP 200")
            detail = f"HTTP {code}"
        except (urllib.error.URLError, OSError) as error:
            detail = str(getattr(error, "reason", error))
        if attempt < attempts:
            time.sleep(interval)
    return SmokeResult(url, False, attempts, detail)
