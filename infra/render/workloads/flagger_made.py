"""The objects Flagger makes from the API's Canary, as its code writes them: data for the coupling checks.

Flagger is no Pulumi resource's maker: the promoted Deployment, the three
Services, the promoted autoscaler and the canary Ingress exist only in the
cluster. These functions derive them from the objects we render and the
Canary, following ``fluxcd/flagger`` at tag ``v1.44.0`` line by line (cited on
each), with the controller's flags as infra/render/flagger.py sets them
(selector label ``app.kubernetes.io/name``, label prefix ``app.kubernetes.io``,
no config tracking). The tests resolve every selector and reference against
them (tests/test_couplings.py) and hand the promoted pods to the NetworkPolicy
analyzer (tests/infra/render/workloads/test_reachability.py).
"""

from __future__ import annotations

import copy
from typing import Any, Final

from infra.conventions import NAME_LABEL
from infra.render.k8s import Manifest, manifest

# The controller's -selector-labels and -include-label-prefix (infra/render/flagger.py: values).
SELECTOR_LABEL: Final = NAME_LABEL
LABEL_PREFIX: Final = "app.kubernetes.io"
TOOLKIT: Final = "toolkit.fluxcd.io"


def _included(labels: dict[str, str]) -> dict[str, str]:
    """includeLabelsByPrefix (pkg/canary/util.go:111-126)."""
    return {k: v for k, v in labels.items() if TOOLKIT not in k and k.startswith(LABEL_PREFIX)}


def primary_labels(labels: dict[str, str], value: str) -> dict[str, str]:
    """makePrimaryLabels (pkg/canary/util.go:128-141): the selector label set to ``value``."""
    kept = {k: v for k, v in labels.items() if TOOLKIT not in k and k != SELECTOR_LABEL}
    return {**kept, SELECTOR_LABEL: value}


def _beside(source: Manifest, name: str, labels: dict[str, str]) -> Manifest:
    """Metadata of an object Flagger makes in the namespace of the one it is made from."""
    return {"name": name, "namespace": source["metadata"]["namespace"], "labels": dict(labels)}


def _kept(spec: Manifest, *keys: str) -> Manifest:
    """The fields of ``spec`` Flagger copies, those that are set."""
    return {key: spec[key] for key in keys if key in spec}


def _with_primary_suffix(selector: dict[str, Any], target: str) -> None:
    """appendPrimarySuffixToValuesIfNeeded (pkg/canary/deployment_controller.go:413-434)."""
    for expression in selector.get("matchExpressions", []):
        if expression["key"] == SELECTOR_LABEL:
            expression["values"] = [f"{v}-primary" if v == target else v for v in expression["values"]]
    labels = selector.get("matchLabels", {})
    if labels.get(SELECTOR_LABEL) == target:
        labels[SELECTOR_LABEL] = f"{target}-primary"


def primary_deployment(target: Manifest) -> Manifest:
    """createPrimaryDeployment (deployment_controller.go:234-319) from the target Deployment."""
    name = target["metadata"]["name"]
    value = f"{target['spec']['selector']['matchLabels'][SELECTOR_LABEL]}-primary"
    template = copy.deepcopy(target["spec"]["template"])
    pod = template["spec"]
    # getPrimaryDeploymentTemplateSpec (:389-411): spread constraints and anti-affinity follow.
    for constraint in pod.get("topologySpreadConstraints", []):
        _with_primary_suffix(constraint.get("labelSelector", {}), name)
    spec = target["spec"]
    labels = primary_labels(_included(target["metadata"].get("labels", {})), value)
    return manifest(
        "apps/v1",
        "Deployment",
        _beside(target, f"{name}-primary", labels),
        spec={
            "replicas": spec.get("replicas", 1),
            **_kept(spec, "revisionHistoryLimit", "strategy"),
            "selector": {"matchLabels": {SELECTOR_LABEL: value}},
            "template": {
                "metadata": {"labels": primary_labels(template["metadata"]["labels"], value)},
                "spec": pod,
            },
        },
    )


def services(canary: Manifest, target: Manifest) -> list[Manifest]:
    """The apex, primary and canary Services (pkg/router/kubernetes_default.go:49-183)."""
    spec = canary["spec"]["service"]
    apex = spec.get("name") or canary["spec"]["targetRef"]["name"]
    value = target["spec"]["selector"]["matchLabels"][SELECTOR_LABEL]
    port = {
        "name": spec.get("portName") or "http",
        "protocol": "TCP",
        "port": spec["port"],
        "targetPort": spec.get("targetPort", spec["port"]),
    }

    def service(name: str, selects: str, role: str) -> Manifest:
        labels = {**spec.get(role, {}).get("labels", {}), SELECTOR_LABEL: name}
        body = {"type": "ClusterIP", "selector": {SELECTOR_LABEL: selects}, "ports": [dict(port)]}
        return manifest("v1", "Service", _beside(canary, name, labels), spec=body)

    # The canary Service selects the target's pods, the primary and the apex the promoted ones (:53-76).
    return [
        service(apex, f"{value}-primary", "apex"),
        service(f"{apex}-primary", f"{value}-primary", "primary"),
        service(f"{apex}-canary", value, "canary"),
    ]


def primary_autoscaler(autoscaler: Manifest) -> Manifest:
    """reconcilePrimaryHpaV2 (pkg/canary/hpa_reconciler.go:55-96): the target's, on the primary."""
    spec, original = autoscaler["spec"], autoscaler["metadata"]
    target = spec["scaleTargetRef"]
    labels = {k: v for k, v in original.get("labels", {}).items() if TOOLKIT not in k}
    return manifest(
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
        _beside(autoscaler, f"{original['name']}-primary", labels),
        spec={
            **_kept(spec, "minReplicas", "maxReplicas", "metrics", "behavior"),
            "scaleTargetRef": {**target, "name": f"{target['name']}-primary"},
        },
    )


def canary_ingress(canary: Manifest, ingress: Manifest) -> Manifest:
    """The Ingress copied and marked canary, apex backends turned canary (pkg/router/ingress.go:43-103).

    Its annotations are the Ingress's but the canary ones, then canary "true" at weight 0 (:215-233;
    SetRoutes sets the weight at each step, :165-213); its labels the Ingress's.
    """
    spec = canary["spec"]["service"]
    apex = spec.get("name") or canary["spec"]["targetRef"]["name"]
    copied = copy.deepcopy(ingress["spec"])
    for rule in copied.get("rules", []):
        for path in rule["http"]["paths"]:
            if path["backend"]["service"]["name"] == apex:
                path["backend"]["service"]["name"] = f"{apex}-canary"
    prefix = "nginx.ingress.kubernetes.io/canary"
    annotations = {
        **{k: v for k, v in ingress["metadata"].get("annotations", {}).items() if prefix not in k},
        "kustomize.toolkit.fluxcd.io/reconcile": "disabled",
        "helm.toolkit.fluxcd.io/driftDetection": "disabled",
        prefix: "true",
        f"{prefix}-weight": "0",
    }
    metadata = _beside(
        ingress, f"{ingress['metadata']['name']}-canary", ingress["metadata"].get("labels", {})
    )
    return manifest("networking.k8s.io/v1", "Ingress", {**metadata, "annotations": annotations}, spec=copied)


def made_by_flagger(
    canary: Manifest, target: Manifest, autoscaler: Manifest, ingress: Manifest
) -> list[Manifest]:
    """Everything Flagger makes for one Canary once it has initialised (scheduler.go:196-278)."""
    return [
        primary_deployment(target),
        *services(canary, target),
        primary_autoscaler(autoscaler),
        canary_ingress(canary, ingress),
    ]
