"""A MetricTemplate's query as Flagger 1.44.0 asks it, and its verdict, for the tests.

Each step follows a file of ``fluxcd/flagger`` at tag ``v1.44.0``:

* the template is Go's text/template over the model's functions, ``missingkey=error``
  (pkg/metrics/observers/render.go:28-45; the functions: pkg/apis/flagger/v1beta1/
  metric.go:100-112), filled in from the Canary (pkg/controller/scheduler_metrics.go:355-378);
* the query is sent with every run of whitespace made one space, as an instant query
  (``/api/v1/query``, no ``time``: the server's now), and the value is the last result's;
  none, or NaN, is "no values" (pkg/metrics/providers/prometheus.go:105-175, 191-195);
* the value passes when within the metric's thresholdRange; no values fails the check
  (pkg/controller/scheduler_metrics.go:316-345).

The one deviation: the tests ask at the scenario's analysis moment (``time=``), where
Flagger asks at its own now, because their history was backfilled.
"""

from __future__ import annotations

import json
import math
import re
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

ACTION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
FUNCTION = re.compile(r"^\s*(\w+)\s*$")
MODEL_FUNCTIONS = ("name", "namespace", "target", "service", "ingress", "route", "interval")


def model(canary: Mapping[str, Any], interval: str) -> dict[str, str]:
    """toMetricModel (scheduler_metrics.go:355-378): what each template function returns."""
    spec = canary["spec"]
    target = spec["targetRef"]["name"]
    return {
        "name": canary["metadata"]["name"],
        "namespace": canary["metadata"]["namespace"],
        "target": target,
        "service": spec.get("service", {}).get("name") or target,
        "ingress": (spec.get("ingressRef") or {}).get("name") or target,
        "route": (spec.get("routeRef") or {}).get("name") or target,
        "interval": interval,
    }


def render(template: str, values: Mapping[str, str]) -> str:
    """RenderQuery for templates of bare function calls: any other action is refused, as Go would."""

    def action(match: re.Match[str]) -> str:
        call = FUNCTION.match(match.group(1))
        if call is None or call.group(1) not in MODEL_FUNCTIONS:
            raise ValueError(f"template action {match.group(0)!r} is not one of the model's functions")
        return values[call.group(1)]

    rendered = ACTION.sub(action, template)
    if "{{" in rendered:
        raise ValueError(f"an unclosed template action in {template!r}")
    return rendered


def trimmed(query: str) -> str:
    """trimQuery (prometheus.go:191-195)."""
    return re.sub(r"\s+", " ", query)


def run_query(prometheus: str, query: str, at: float) -> float | None:
    """RunQuery (prometheus.go:105-175): the last result's value; None where Flagger finds no values."""
    arguments = urllib.parse.urlencode({"query": trimmed(query), "time": f"{at:.3f}"})
    with urllib.request.urlopen(f"{prometheus}/api/v1/query?{arguments}", timeout=5) as response:
        body = json.load(response)
    value: float | None = None
    for result in body["data"]["result"]:
        if "values" in result:
            raise AssertionError("a range result: Flagger refuses it (ErrMultipleValuesReturned)")
        value = float(result["value"][1])
    if value is None or math.isnan(value):
        return None
    return value


def passes(value: float | None, threshold_range: Mapping[str, float]) -> bool:
    """runMetricChecks' comparison (scheduler_metrics.go:316-345): no values, or out of range, fails."""
    if value is None:
        return False
    low, high = threshold_range.get("min"), threshold_range.get("max")
    return not ((low is not None and value < low) or (high is not None and value > high))
