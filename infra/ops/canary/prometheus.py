"""A small client of Prometheus's instant query API (``/api/v1/query``), for aggregated answers.

Every question the judge asks is aggregated to one number: the answer is a
scalar or a vector of at most one sample, and an empty vector (no series
matched) reads as None. Anything else, an unreachable server, an HTTP error,
an answer that is not Prometheus's JSON or not a success, is a
PrometheusError naming the server and what went wrong.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any

DEFAULT_TIMEOUT_SECONDS = 10.0
# Prometheus's error bodies are short; anything longer is someone else's page.
_MAX_DETAIL = 300


class PrometheusError(Exception):
    """The query could not be answered as a single number."""


@dataclass(frozen=True)
class Prometheus:
    """A Prometheus server, e.g. ``http://127.0.0.1:9090`` (a path prefix such as ``/prometheus`` kept)."""

    url: str
    timeout: float = DEFAULT_TIMEOUT_SECONDS

    def query(self, expr: str, at: datetime) -> float | None:
        """The value of ``expr`` at ``at``: a number (NaN included), or None when no series matched."""
        params = urllib.parse.urlencode({"query": expr, "time": f"{at.timestamp():.3f}"})
        address = f"{self.url.rstrip('/')}/api/v1/query"
        # GET: what a read-only proxy in front of Prometheus lets through; the queries are short.
        request = urllib.request.Request(f"{address}?{params}", headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as error:
            detail = _error_detail(error.read())
            raise PrometheusError(f"{address} answered HTTP {error.code}: {detail}") from None
        except urllib.error.URLError as error:
            raise PrometheusError(f"cannot reach {address}: {error.reason}") from None
        except (TimeoutError, OSError) as error:
            raise PrometheusError(f"cannot reach {address}: {error}") from None
        return _value(_answer(body, address), address)


def _error_detail(body: bytes) -> str:
    try:
        answer = json.loads(body)
    except ValueError:
        text = body.decode("utf-8", "replace").strip()
        return text[:_MAX_DETAIL] or "(no body)"
    if isinstance(answer, dict) and "error" in answer:
        return f"{answer.get('errorType', 'error')}: {answer['error']}"
    return str(answer)[:_MAX_DETAIL]


def _answer(body: bytes, address: str) -> dict[str, Any]:
    try:
        answer = json.loads(body)
    except ValueError:
        raise PrometheusError(f"{address} did not answer with Prometheus's JSON") from None
    if not isinstance(answer, dict):
        raise PrometheusError(f"{address} did not answer with Prometheus's JSON")
    if answer.get("status") != "success":
        raise PrometheusError(
            f"{address} answered status {answer.get('status')!r}: "
            f"{answer.get('errorType', 'error')}: {answer.get('error', '(no error given)')}"
        )
    return answer


def _value(answer: dict[str, Any], address: str) -> float | None:
    data = answer.get("data")
    kind = data.get("resultType") if isinstance(data, dict) else None
    result = data.get("result") if isinstance(data, dict) else None
    try:
        if kind == "scalar":
            return float(result[1])  # type: ignore[index]
        if kind == "vector" and isinstance(result, list):
            if not result:
                return None
            if len(result) > 1:
                raise PrometheusError(
                    f"{address} answered {len(result)} series where one number was asked for "
                    f"(first: {result[0].get('metric')})"
                )
            return float(result[0]["value"][1])
    except (TypeError, KeyError, IndexError, ValueError):
        raise PrometheusError(f"{address} answered a {kind} this client cannot read") from None
    raise PrometheusError(f"{address} answered a {kind!s} result, not a scalar or a vector")
