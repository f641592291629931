"""What a release's canary will be judged on, in words a pull request's reader takes in at a glance.

Pure: the stack's settings in, Markdown list items out. Every number comes
from the settings (``settings.canary``, the SLO), from the rules the stack
deploys (the paging burn-rate windows, infra/ops/canary/queries.py), from the
judge's own test (infra/ops/canary/judge.py: ``ALPHA``) or from the release's
timing (infra/ops/canary/timing.py), so the comment says what the stack at the
pull request's head will do, as ``samokoder-infra verify`` does it.
"""

from __future__ import annotations

from infra.ops.canary.judge import ALPHA, fewest_significant
from infra.ops.canary.queries import PAGING_WINDOWS
from infra.ops.canary.timing import release_minutes
from infra.render.monitoring.rules import Alert, all_alerts
from infra.render.monitoring.slo import api_slos, slo_rules
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
    described = []
    for slo in api_slos(settings.slo):
        alert: Alert = next(a for a in alerts if a.labels.get("slo") == slo.name)
        over = ", or ".join(
            f"above {_percent(round(w.factor * slo.budget * 100, 6))} over {w.long} and {w.short}"
            for w in PAGING_WINDOWS
        )
        objective = _percent(round(slo.objective * 100, 6))
        described.append(f"`{alert.name}` ({slo.what}, objective {objective}: bad events {over})")
    return described


def _errors(settings: StackSettings) -> str:
    """The error bounds, and how far over one the canary's fewest requests must go to fail it."""
    canary = settings.canary
    needed, limit = canary.min_requests, canary.max_error_percent
    fewest = fewest_significant(needed, limit)
    if fewest is None:
        example = f"at {needed} requests, not even all of them failing is"
    else:
        share = _percent(round(100 * fewest / needed, 2))
        example = (
            f"at {needed} requests it takes {fewest} 5xx ({share}) to fail {_percent(limit)}, a share "
            "nearer the bound as the traffic grows"
        )
    return (
        f"- **Errors (5xx share)**: the canary's at most {_percent(limit)} (unless stable's is over too: "
        "then inconclusive), and at most stable's plus "
        f"{_plural(canary.max_error_increase_points, 'percentage point')}. Over a bound means beyond "
        "chance: more 5xx than a share on the bound gives with a probability under "
        f"{_percent(ALPHA * 100)} (a one-sided binomial test on the canary's requests); {example}."
    )


def judged_on(settings: StackSettings) -> list[str]:
    """Markdown list items: the steps, the window, and every bound the canary is held to."""
    canary = settings.canary
    time = release_minutes(settings)
    window = _minutes(time.window_minutes)
    steps = " → ".join(_percent(w) for w in time.weights)
    count = _plural(len(time.weights), "step")
    return [
        f"- **Steps**: the canary takes {steps} of the API's requests at the ingress, one step after "
        "another, then is promoted (100 %).",
        f"- **Window**: each step runs {window} and is judged over those {window}, canary against stable.",
        f"- **Enough traffic**: at least {canary.min_requests} canary requests in the window; fewer "
        "decide nothing (inconclusive).",
        _errors(settings),
        f"- **Latency (P95 at the ingress, websockets aside)**: the canary's at most "
        f"{settings.slo.latency_threshold_seconds:g} s, the latency SLO's threshold (unless stable's is "
        f"over too: then inconclusive), and at most stable's P95 times {canary.max_latency_ratio:g}, "
        "judged at the histogram's buckets: the canary fails it only past the first bucket bound at or "
        "above that product (more than 5 % of its requests slower than that bound), since the buckets "
        "are 2 to 2.5 times apart and a P95 inside one is only interpolated.",
        "- **Paging burn-rate alerts**: while one fires, a canary that passed is held, not promoted: "
        + "; ".join(paging_burn_alerts(settings))
        + ".",
        f"- **Inconclusive**: the step waits another window and is judged again over all its time, "
        f"up to {_plural(time.retries, 'time')}, then the release is aborted.",
        f"- **Time**: {_minutes(time.judged_minutes)} of steps ({count} of {window}) "
        f"when every window is conclusive; at most {_minutes(time.longest_judged_minutes)} with every retry.",
    ]
