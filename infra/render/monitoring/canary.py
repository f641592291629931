"""Flagger's verdicts on the API's releases, as alerts to the stack's receivers.

Flagger reports the last analysis of each Canary as a gauge (infra/render/flagger.py:
CANARY_STATUS), scraped by its own PodMonitor. A rolled-back release leaves it
at "failed" until the next release succeeds: the stack serves the previous
version while its record names the new one, which someone has to look at.
An analysis that runs longer than the longest the settings allow
(``canary.verdict_minutes``) is stuck, and holds the deploy that waits for it.
"""

from __future__ import annotations

from infra.conventions import APP_NAMESPACE, workload_name
from infra.render import flagger
from infra.render.monitoring.promql import selector
from infra.render.monitoring.rules import Alert, RuleFile, RuleGroup
from infra.settings.stack import StackSettings

LABELS = {"service": "api", "signal": "release"}


def canary_rules(settings: StackSettings) -> RuleFile:
    # The gauge of the API's Canary: labelled with its target's name, the Canary's namespace stored aside.
    canary = (f'name="{workload_name("api")}"', f'{flagger.CANARY_NAMESPACE_LABEL}="{APP_NAMESPACE}"')
    status = f"max({selector(flagger.CANARY_STATUS, *canary)})"
    longest = settings.canary.verdict_minutes()
    rules = (
        Alert(
            "ApiCanaryFailed",
            f"{status} == {flagger.STATUS_FAILED}",
            "warning",
            "Flagger rolled the API's release back",
            "The API's last release failed Flagger's analysis: every request is back on the promoted "
            "version and the new one is scaled to zero. The stack's record names a release that does "
            "not serve until the next one succeeds.",
            for_="1m",
            labels=LABELS,
        ),
        Alert(
            "ApiCanaryStalled",
            f"{status} == {flagger.STATUS_PROGRESSING}",
            "warning",
            "The API's release has been in analysis too long",
            f"Flagger has been analysing the API's release for more than {longest} min, the longest "
            "its steps, failed checks and rollouts take: the deploy waiting for its verdict times out.",
            for_=f"{longest}m",
            labels=LABELS,
        ),
    )
    return RuleFile("release", (RuleGroup("samokoder-release", rules),))
