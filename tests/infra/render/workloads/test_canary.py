"""The API's Canary and MetricTemplates: Flagger's analysis from the settings, on the objects we render."""

from __future__ import annotations

from typing import Any

import pytest

from infra import app_contract, ingress_contract
from infra.conventions import APP_NAMESPACE, Naming, workload_name
from infra.render import flagger
from infra.render.workloads import canary, flagger_made, routes
from infra.render.workloads import manifests as m
from infra.settings.stack import StackSettings
from tests.conftest import STACKS
from tests.crd_schemas import crd_problems
from tests.infra.render.workloads import flagger_query
from tests.infra.render.workloads.test_manifests import IMAGE, app, selects, settings

NAMING = Naming("unit")


def canary_of(stack: str, *, skip_analysis: bool = False) -> dict[str, Any]:
    s = settings(stack)
    return canary.canary(NAMING, s.canary, s.slo, skip_analysis=skip_analysis)


def templates_of(stack: str) -> dict[str, dict[str, Any]]:
    s = settings(stack)
    return {t["metadata"]["name"]: t for t in canary.metric_templates(NAMING, s.canary, s.slo)}


@pytest.mark.parametrize("stack", STACKS)
def test_the_canary_and_its_templates_meet_flaggers_crds(stack: str) -> None:
    for document in [canary_of(stack), canary_of(stack, skip_analysis=True), *templates_of(stack).values()]:
        assert crd_problems(document) == [], document["metadata"]["name"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_analysis_is_the_stacks_settings(stack: str) -> None:
    s: StackSettings = settings(stack)
    analysis = canary_of(stack)["spec"]["analysis"]
    assert analysis["stepWeights"] == list(s.canary.weights)
    assert analysis["interval"] == f"{s.canary.analysis_minutes}m"
    assert analysis["threshold"] == s.canary.max_failed_checks
    errors, latency = analysis["metrics"]
    assert errors["thresholdRange"] == {"max": s.canary.max_error_percent}
    assert latency["thresholdRange"] == {"max": s.slo.latency_threshold_seconds}
    # Each check reads the window since the last step, from a template the program renders.
    assert {errors["interval"], latency["interval"]} == {analysis["interval"]}
    assert {errors["templateRef"]["name"], latency["templateRef"]["name"]} == set(templates_of(stack))
    assert canary_of(stack)["spec"]["skipAnalysis"] is False


def test_a_rollback_skips_the_analysis_and_ticks_fast() -> None:
    """Flagger promotes at its next ticks; a short interval brings them within the audit's 5 minutes."""
    spec = canary_of("prod", skip_analysis=True)["spec"]
    assert spec["skipAnalysis"] is True
    assert spec["analysis"]["interval"] == "30s"
    # The rest stays as it was: the next release's analysis comes back whole.
    assert spec["analysis"]["stepWeights"] == canary_of("prod")["spec"]["analysis"]["stepWeights"]


def test_the_canary_refers_to_the_objects_we_render() -> None:
    spec = app()
    deployment, autoscaler = m.api_deployment(NAMING, spec, IMAGE), m.api_autoscaler(NAMING, spec)
    ingress = routes.api_ingress(NAMING, spec)
    refs = canary_of("prod")["spec"]
    assert refs["targetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": deployment["metadata"]["name"],
    }
    assert refs["autoscalerRef"]["name"] == autoscaler["metadata"]["name"]
    assert autoscaler["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert refs["ingressRef"]["name"] == ingress["metadata"]["name"]
    # Flagger turns the Ingress's backends of the apex Service (the target's name) to the canary's.
    apex = refs["targetRef"]["name"]
    assert {p["backend"]["service"]["name"] for p in ingress["spec"]["rules"][0]["http"]["paths"]} == {apex}
    # It builds the primary's selector on this label: the target's selector must carry it.
    assert flagger_made.SELECTOR_LABEL in deployment["spec"]["selector"]["matchLabels"]
    assert flagger.values()["selectorLabels"] == flagger_made.SELECTOR_LABEL
    # The Services' port, by the name the ServiceMonitor and probes use, on the container's port.
    port = deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]
    assert (refs["service"]["port"], refs["service"]["targetPort"]) == (port["containerPort"], port["name"])


@pytest.mark.parametrize("stack", STACKS)
def test_the_templates_select_the_canarys_requests_as_flagger_fills_them_in(stack: str) -> None:
    values = flagger_query.model(canary_of(stack), "5m")
    # What the controller's "canary" label holds on the canary's requests: its Service's upstream.
    upstream = ingress_contract.upstream_name(
        APP_NAMESPACE, f"{workload_name('api')}-canary", app_contract.API_PORT
    )
    for name, template in templates_of(stack).items():
        query = flagger_query.render(template["spec"]["query"], values)
        assert f'canary="{upstream}"' in query, name
        assert "[5m]" in query, name
        assert "{{" not in query, name
        assert 'ingress="samokoder-api"' in query, name
        # Never the request's namespace or service: ours stores them as exported_*.
        assert "namespace=" not in query, name
        assert "service=" not in query, name
        assert f">= {settings(stack).canary.min_requests}" in query, name
        assert template["spec"]["provider"] == {"type": "prometheus", "address": flagger.PROMETHEUS_URL}


def test_an_action_outside_the_model_is_refused_as_go_refuses_it() -> None:
    with pytest.raises(ValueError, match="not one of the model's functions"):
        flagger_query.render('x{job="{{ job }}"}', flagger_query.model(canary_of("prod"), "5m"))
    with pytest.raises(ValueError, match="unclosed"):
        flagger_query.render("x[{{ interval ]", flagger_query.model(canary_of("prod"), "5m"))


def test_the_smoke_check_asks_the_canarys_pods_before_any_request_is_shifted() -> None:
    hook, gate = canary_of("prod")["spec"]["analysis"]["webhooks"]
    assert hook["type"] == "pre-rollout"
    # And the operators' abort: the loadtester's rollback gate, asked at every tick.
    assert gate["type"] == "rollback"
    assert gate["url"] == f"{flagger.LOADTESTER_URL}rollback/check"
    assert hook["url"] == flagger.LOADTESTER_URL
    # The loadtester's blocking task: a failing command is a failed webhook.
    assert hook["metadata"]["type"] == "bash"
    command = hook["metadata"]["cmd"]
    service = next(s for s in made()["Service"] if s["metadata"]["name"].endswith("-canary"))
    assert f"http://{service['metadata']['name']}.{APP_NAMESPACE}:{app_contract.API_PORT}/health" in command
    for part in ("set -o pipefail", "--fail", "jq -e"):
        assert part in command


def made(stack: str = "prod") -> dict[str, list[dict[str, Any]]]:
    spec = app(stack)
    objects = flagger_made.made_by_flagger(
        canary_of(stack),
        m.api_deployment(NAMING, spec, IMAGE),
        m.api_autoscaler(NAMING, spec),
        routes.api_ingress(NAMING, spec),
    )
    found: dict[str, list[dict[str, Any]]] = {}
    for document in objects:
        found.setdefault(document["kind"], []).append(document)
    return found


def test_flaggers_services_select_the_promoted_pods_and_the_canarys() -> None:
    spec = app()
    target_pods = m.api_deployment(NAMING, spec, IMAGE)["spec"]["template"]["metadata"]["labels"]
    (primary,) = made()["Deployment"]
    promoted_pods = primary["spec"]["template"]["metadata"]["labels"]
    assert selects(primary["spec"]["selector"]["matchLabels"], promoted_pods)
    assert not selects(primary["spec"]["selector"]["matchLabels"], target_pods)
    services = {s["metadata"]["name"]: s["spec"]["selector"] for s in made()["Service"]}
    assert set(services) == {"samokoder-api", "samokoder-api-primary", "samokoder-api-canary"}
    for name in ("samokoder-api", "samokoder-api-primary"):
        assert selects(services[name], promoted_pods)
        assert not selects(services[name], target_pods)
    assert selects(services["samokoder-api-canary"], target_pods)
    assert not selects(services["samokoder-api-canary"], promoted_pods)
    # The promoted pods keep the API's component: its policies, budget and monitor reach them.
    assert promoted_pods["app.kubernetes.io/component"] == target_pods["app.kubernetes.io/component"]
    assert selects(canary.primary_budget(NAMING)["spec"]["selector"]["matchLabels"], promoted_pods)


def test_the_canary_ingress_is_the_apis_turned_to_the_canary_service() -> None:
    (copy,) = made()["Ingress"]
    ingress = routes.api_ingress(NAMING, app())
    assert copy["metadata"]["name"] == f"{ingress['metadata']['name']}-canary"
    paths = copy["spec"]["rules"][0]["http"]["paths"]
    assert {p["backend"]["service"]["name"] for p in paths} == {"samokoder-api-canary"}
    # The same host, path and pathType: ingress-nginx merges it into the API's location.
    assert [(p["path"], p["pathType"]) for p in paths] == [
        (p["path"], p["pathType"]) for p in ingress["spec"]["rules"][0]["http"]["paths"]
    ]
    assert copy["metadata"]["annotations"][ingress_contract.CANARY_ANNOTATION] == "true"
    (autoscaler,) = made()["HorizontalPodAutoscaler"]
    assert autoscaler["spec"]["scaleTargetRef"]["name"] == "samokoder-api-primary"
