"""What a release's canary will be judged on, in words a pull request's reader takes in at a glance.

Pure: the stack's settings in, Markdown list items out. Every number comes
from the settings (``settings.canary``, the SLO) or from the rules the stack
deploys (the paging burn-rate alerts), so the comment says what the stack at
the pull request's head will do, as ``samokoder-infra verify``
(infra/ops/canary/judge.py) does it.
"""

from __future__ import annotations

from infra.render.monitoring.rules import Alert, all_alerts
from infra.render.monitoring.slo import BURN_WINDOWS, api_slos, slo_rules
from infra.settings.stack import StackSettings

# The SLO alerts that page (critical) on the burn rate, as infra/render/monitoring/slo.py names them.
BURN_ALERT_SUFFIX = "BudgetBurn"


def _percent(value: float) -> str:
    return f"{value:g} %"


def _plural(count: float, noun: str) -> str:
    return f"{count:g} {noun}{'' if count == 1 else 's'}"


def _minutes(minutes: int) -> str:
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def paging_burn_alerts(settings: StackSettings) -> list[str]:
    """Each SLO's paging burn-rate alert, with the error ratios over the windows that fire it."""
    alerts = [
        a
        for a in all_alerts(slo_rules(settings))
        if a.severity == "critical" and a.name.endswith(BURN_ALERT_SUFFIX)
    ]
    windows = [w for w in BURN_WINDOWS if w.severity == "critical"]
    described = []
    for slo in api_slos(settings.slo):
        alert: Alert = next(a for a in alerts if a.labels.get("slo") == slo.name)
        over = ", or ".join(
            f"above {_percent(round(w.factor * slo.budget * 100, 6))} over {w.long} and {w.short}"
            for w in windows
        )
        objective = _percent(round(slo.objective * 100, 6))
        described.append(f"`{alert.name}` ({slo.what}, objective {objective}: bad events {over})")
    return described


def judged_on(settings: StackSettings) -> list[str]:
    """Markdown list items: the steps, the window, and every bound the canary is held to."""
    canary = settings.canary
    window = _minutes(canary.analysis_minutes)
    steps = " → ".join(_percent(w) for w in canary.weights)
    retries = canary.inconclusive_retries
    longest = canary.total_minutes() * (1 + retries)
    count = _plural(len(canary.weights), "step")
    return [
        f"- **Steps**: the canary takes {steps} of the API's requests at the ingress, one step after "
        "another, then is promoted (100 %).",
        f"- **Window**: each step runs {window} and is judged over those {window}, canary against stable.",
        f"- **Enough traffic**: at least {canary.min_requests} canary requests in the window; fewer "
        "decide nothing (inconclusive).",
        f"- **Errors (5xx share)**: the canary's at most {_percent(canary.max_error_percent)} "
        "(unless stable's is over too), and at most stable's plus "
        f"{_plural(canary.max_error_increase_points, 'percentage point')}.",
        f"- **Latency (P95 at the ingress, websockets aside)**: the canary's at most "
        f"{settings.slo.latency_threshold_seconds:g} s, the latency SLO's threshold (unless stable's is "
        f"over too), and at most stable's P95 times {canary.max_latency_ratio:g}.",
        "- **Paging burn-rate alerts**: while one fires, a canary that passed is held, not promoted: "
        + "; ".join(paging_burn_alerts(settings))
        + ".",
        f"- **Inconclusive**: a window is judged again up to {_plural(retries, 'time')}, "
        "then the release is aborted.",
        f"- **Time**: {_minutes(canary.total_minutes())} of steps ({count} of {window}) "
        f"when every window is conclusive; at most {_minutes(longest)} with every retry.",
    ]
