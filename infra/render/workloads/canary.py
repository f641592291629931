"""The canary of a release: the API's next version beside the stable one, taking a share of its requests.

Named as Flagger names it (``samokoder-api-canary``: Deployment, Service,
autoscaler, disruption budget and Ingress), so dashboards and the judge tell it from stable. Its
pods carry the API's component label, so the API's network policies, its
ServiceMonitor and the database's and Redis's admission rules apply to them as
to stable's (infra/render/workloads/network_policies.py).

The share is ingress-nginx's canary by weight: a second Ingress on the same
host, path and pathType as the API's, marked ``canary``, whose backend the
controller adds to the API's location as an alternative
(infra/ingress_contract.py: CANARY_SOURCES). It carries no TLS and no issuer:
the API's Ingress serves the host's certificate.

Only the API canaries. The worker takes no traffic to split, and the site's
pages name their scripts by content hash (infra/app_contract.py:
FRONTEND_HASHED_ASSETS), so a random split would pair one build's page with
the other's missing files: both roll with the promotion.
"""

from __future__ import annotations

import math
from typing import Any

from infra import app_contract as app
from infra import ingress_contract as edge
from infra.conventions import APP_NAMESPACE, Naming, canary_name, pod_selector
from infra.render.workloads.manifests import AppSpec, Meta, api_pods, autoscaler, budget_of, service_of
from infra.render.workloads.routes import api_path, ingress


def canary_meta(naming: Naming) -> Meta:
    name = canary_name("api")
    return Meta(name, naming.k8s_labels(name, "api"), pod_selector(name))


def canary_deployment(naming: Naming, spec: AppSpec, image: str) -> dict[str, Any]:
    return api_pods(canary_meta(naming), spec, image)


def canary_service(naming: Naming) -> dict[str, Any]:
    return service_of(canary_meta(naming), app.API_PORT)


def canary_replicas(spec: AppSpec, weight: int) -> tuple[int, int]:
    """The canary's autoscaling bounds: its share of stable's, rounded up.

    Never below stable's own floor up to two pods: a production canary keeps a
    pod through a drain, as stable does (its budget lets one go at a time).
    """
    floor = min(2, spec.replicas.api)
    minimum = max(floor, math.ceil(spec.replicas.api * weight / 100))
    maximum = max(minimum, math.ceil(spec.workloads.api_max_replicas * weight / 100))
    return minimum, maximum


def canary_budget(naming: Naming) -> dict[str, Any]:
    return budget_of(canary_meta(naming))


def canary_autoscaler(naming: Naming, spec: AppSpec, weight: int) -> dict[str, Any]:
    return autoscaler(canary_meta(naming), *canary_replicas(spec, weight))


def canary_upstream() -> str:
    """What ingress-nginx's ``canary`` label holds on the requests the canary answered."""
    return edge.upstream_name(APP_NAMESPACE, canary_name("api"), app.API_PORT)


def canary_ingress(naming: Naming, spec: AppSpec, weight: int) -> dict[str, Any]:
    """The API's path again, marked canary: the controller merges it into the API's location.

    Only the canary annotations count on a canary Ingress (the others are the main
    Ingress's: docs/user-guide/nginx-configuration/annotations.md:155 at
    controller-v1.15.1); the merge needs the same host, path and pathType.
    """
    annotations = {edge.CANARY_ANNOTATION: "true", edge.CANARY_WEIGHT_ANNOTATION: str(weight)}
    name = canary_name("api")
    return ingress(naming, spec, name, annotations, [api_path(name)], tls=False)
