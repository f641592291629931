"""The site's Ingresses: /api/v1/... and /api/health to the API with /api removed, the rest to the site.

The browser calls its own origin under /api (/api/v1/..., /api/v1/ws/<project>)
while the API serves /v1/...: the app's own compose strips /api in front of
the API (infra/app_contract.py). Two Ingresses, because ingress-nginx applies
a rewrite to every path of the Ingress that carries it.

Only what the browser and the smoke check ask for reaches the API. Besides
/v1 the app serves /metrics (raw request paths in its series), /docs, /redoc,
/openapi.json (FastAPI's defaults, left on: api/main.py:96) and a /health router
with a POST test endpoint (api/main.py:161; core/monitoring/health.py:451), all
at infra/app_contract.py's APP_COMMIT: the public API Ingress leaves them to the
site, where they are pages that do not exist, except the database's and Redis's
entries of that router, which the smoke check reads (GET only, no credential).
Prometheus scrapes /metrics from inside the cluster, past the Ingress.
"""

from __future__ import annotations

from typing import Any, Final

from infra import app_contract as app
from infra.conventions import CLUSTER_ISSUER, INGRESS_CLASS, TLS_SECRET, Naming, workload_name
from infra.render import k8s
from infra.render.workloads.manifests import AppSpec

NGINX: Final = "nginx.ingress.kubernetes.io"
# ingress-nginx makes it the location ``~* "^<path>"`` (case-insensitive PCRE) and rewrites
# with ``rewrite "(?i)<path>" <target> break`` (internal/ingress/controller/template/
# template.go:530-532,787-789 at controller-v1.15.1). The group is what the API serves:
# /v1/... for the browser's calls and websockets, /health alone (the constant answer) and the
# database's and Redis's health, which the deploy's smoke check reads (infra/ops/releases/
# smoke.py). ImplementationSpecific: the controller checks only the other path types against
# a plain-path pattern (internal/ingress/inspector/inspector.go:56-57).
_COMPONENTS: Final = f"{app.API_COMPONENT_HEALTH_PATH}(?:database|redis)$"
API_PATH: Final = f"{app.BROWSER_API_PREFIX}({app.API_ROUTE_PREFIX}/.*|{app.API_HEALTH_PATH}$|{_COMPONENTS})"
API_REWRITE: Final = "$1"
API_PATH_TYPE: Final = "ImplementationSpecific"
# A generation session holds its websocket open while the worker runs (arq's job
# timeout is 300 s); nginx's default 60 s read timeout would cut it.
SESSION_TIMEOUT_SECONDS: Final = 3600
SITE: Final = "samokoder"
API: Final = "samokoder-api"


def ingress(
    naming: Naming,
    spec: AppSpec,
    name: str,
    annotations: dict[str, str],
    paths: list[Any],
    *,
    tls: bool = True,
) -> dict[str, Any]:
    """An Ingress of the site's host; with ``tls``, the one that asks cert-manager for its certificate."""
    certificate = {"cert-manager.io/cluster-issuer": CLUSTER_ISSUER} if tls else {}
    body: dict[str, Any] = {"ingressClassName": INGRESS_CLASS}
    if tls:
        body["tls"] = [{"hosts": [spec.domain], "secretName": TLS_SECRET}]
    body["rules"] = [{"host": spec.domain, "http": {"paths": paths}}]
    metadata = {**k8s.metadata(naming, name, "ingress"), "annotations": {**certificate, **annotations}}
    return k8s.manifest("networking.k8s.io/v1", "Ingress", metadata, spec=body)


def backend(name: str, port: int) -> dict[str, Any]:
    """A path's backend: the Service ``name`` (a workload's or the canary's) on ``port``."""
    return {"service": {"name": name, "port": {"number": port}}}


def api_path(service_name: str) -> dict[str, Any]:
    """The API's one path: what the API's Ingress serves, and what a canary must repeat to join it."""
    return {"path": API_PATH, "pathType": API_PATH_TYPE, "backend": backend(service_name, app.API_PORT)}


def api_ingress(naming: Naming, spec: AppSpec) -> dict[str, Any]:
    """/api/v1/... reaches the API as /v1/...; websocket upgrades pass through ingress-nginx as they are."""
    annotations = {
        f"{NGINX}/use-regex": "true",
        f"{NGINX}/rewrite-target": API_REWRITE,
        f"{NGINX}/proxy-read-timeout": str(SESSION_TIMEOUT_SECONDS),
        f"{NGINX}/proxy-send-timeout": str(SESSION_TIMEOUT_SECONDS),
    }
    return ingress(naming, spec, API, annotations, [api_path(workload_name("api"))])


def site_ingress(naming: Naming, spec: AppSpec) -> dict[str, Any]:
    """Everything else, /health included, is the site."""
    path = {
        "path": "/",
        "pathType": "Prefix",
        "backend": backend(workload_name("frontend"), app.FRONTEND_PORT),
    }
    return ingress(naming, spec, SITE, {}, [path])
