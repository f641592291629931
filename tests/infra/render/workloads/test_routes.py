"""The site's Ingresses as ingress-nginx serves them: which backend a browser path reaches, and as what path.

ingress-nginx merges every Ingress of a host into one server. When any of
them asks for ``use-regex`` (or a ``rewrite-target``, which implies it), every
path of that host, Exact ones included, becomes a case-insensitive regex
location ``~* "^<path>"`` (internal/ingress/controller/template/template.go:
506-536 at controller-v1.15.1); the locations are written longest path first
(internal/ingress/controller/controller.go:996-1003) and nginx takes the first
regex that matches. The matched Ingress's ``rewrite-target`` then rewrites the
path with ``rewrite "(?i)<path>" <target> break`` (template.go:787-789).
Without regexes, an Exact path wins and then the longest ``Prefix`` (by whole
segments: internal/ingress/controller/location.go). ``resolve`` does that over
the rendered Ingresses, with the regexes judged by PCRE (tests/.../pcre.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest

from infra import app_contract as app
from infra.conventions import TLS_SECRET, Naming, workload_name
from infra.ops.releases import smoke
from infra.ops.releases.smoke import health_url
from infra.render.workloads import manifests as m
from infra.render.workloads import routes
from infra.settings import load_settings
from infra.settings.stack import StackSettings
from tests.conftest import STACKS, stack_file_values
from tests.infra.render.workloads import pcre

NAMING = Naming("unit")
NGINX = "nginx.ingress.kubernetes.io"
Ingress = dict[str, Any]
PROJECT = str(uuid.UUID(int=0x5A30_0C0D_E000_4000_8000_0000_0000_0001))


@dataclass(frozen=True)
class Location:
    path: str
    path_type: str
    service: str
    port: int
    rewrite: str | None


@dataclass(frozen=True)
class Upstream:
    service: str
    port: int
    path: str


def settings(stack: str) -> StackSettings:
    return load_settings(stack, stack_file_values(stack), offline=True)


def rendered(stack: str) -> list[Ingress]:
    spec = m.AppSpec.of(settings(stack))
    return [routes.site_ingress(NAMING, spec), routes.api_ingress(NAMING, spec)]


def _annotations(ingress: Ingress) -> dict[str, str]:
    found: dict[str, str] = ingress["metadata"].get("annotations", {})
    return found


def _rewrites(location: Location) -> bool:
    """needsRewrite (template.go:497-502): a target, other than the path itself."""
    return location.rewrite not in (None, "", location.path)


def locations(ingresses: list[Ingress], host: str) -> tuple[list[Location], bool]:
    """The host's locations in the order ingress-nginx writes them, and whether they are regexes."""
    found = [
        Location(
            path=path["path"],
            path_type=path["pathType"],
            service=path["backend"]["service"]["name"],
            port=path["backend"]["service"]["port"]["number"],
            rewrite=_annotations(ingress).get(f"{NGINX}/rewrite-target"),
        )
        for ingress in ingresses
        for rule in ingress["spec"]["rules"]
        if rule["host"] == host
        for path in rule["http"]["paths"]
    ]
    # Two stable sorts, as controller.go:996-1003: by path descending, then by length descending.
    found.sort(key=lambda location: location.path, reverse=True)
    found.sort(key=lambda location: len(location.path), reverse=True)
    use_regex = any(
        _annotations(i).get(f"{NGINX}/use-regex") == "true"
        for i in ingresses
        for rule in i["spec"]["rules"]
        if rule["host"] == host
    )
    return found, use_regex or any(_rewrites(location) for location in found)


def _prefix_match(prefix: str, path: str) -> bool:
    """A Prefix path matches by whole segments: /api matches /api and /api/x, not /apiary."""
    if prefix == "/":
        return True
    prefix = prefix.rstrip("/")
    return path == prefix or path.startswith(f"{prefix}/")


def _chosen(found: list[Location], regex: bool, path: str) -> Location:
    if regex:
        # Every location ~* "^<path>", tried in order; the first match serves.
        matching = [loc for loc in found if pcre.search(f"^{loc.path}", path, pcre.CASELESS) is not None]
    else:
        exact = [loc for loc in found if loc.path_type == "Exact" and loc.path == path]
        prefixes = [loc for loc in found if loc.path_type != "Exact" and _prefix_match(loc.path, path)]
        matching = exact or prefixes
    assert matching, f"no location serves {path}"
    return matching[0]


def resolve(ingresses: list[Ingress], host: str, url: str) -> Upstream:
    """The backend a request for `url` reaches, and the path it is sent there with."""
    path = urlsplit(url).path
    found, regex = locations(ingresses, host)
    chosen = _chosen(found, regex, path)
    if chosen.rewrite is None or not _rewrites(chosen):
        return Upstream(chosen.service, chosen.port, path)
    # rewrite "(?i)<location path>" <target> break; $n are that regex's groups, unset ones empty.
    groups = pcre.search(f"(?i){chosen.path}", path)
    assert groups is not None, (chosen.path, path)
    target = chosen.rewrite
    for number in range(9, 0, -1):
        captured = groups[number] if number < len(groups) else None
        target = target.replace(f"${number}", captured or "")
    return Upstream(chosen.service, chosen.port, target)


API = (workload_name("api"), app.API_PORT)
SITE = (workload_name("frontend"), app.FRONTEND_PORT)
# (what the browser asks for, who answers, the path it answers)
BROWSER_PATHS = [
    pytest.param("/api/v1/projects/", API, "/v1/projects/", id="an API call"),
    pytest.param(f"/api/v1/ws/{PROJECT}?token=t", API, f"/v1/ws/{PROJECT}", id="a session's websocket"),
    pytest.param("/api/health", API, app.API_HEALTH_PATH, id="the API's health"),
    pytest.param(
        f"/api{app.API_REDIS_HEALTH_PATH}", API, app.API_REDIS_HEALTH_PATH, id="Redis as the API sees it"
    ),
    pytest.param(
        f"/api{app.API_DATABASE_HEALTH_PATH}", API, app.API_DATABASE_HEALTH_PATH, id="the database's health"
    ),
    pytest.param("/API/v1/projects/", API, "/v1/projects/", id="case-insensitive"),
    pytest.param("/api", SITE, "/api", id="/api alone is no API call"),
    pytest.param("/api/v1x", SITE, "/api/v1x", id="a name that starts with v1"),
    pytest.param("/health", SITE, "/health", id="/health is the site's"),
    pytest.param("/", SITE, "/", id="the site"),
    pytest.param("/assets/x.js", SITE, "/assets/x.js", id="an asset"),
    pytest.param("/apiary", SITE, "/apiary", id="a page that starts with api"),
    pytest.param("/projects/api", SITE, "/projects/api", id="api later in the path"),
]
# What the API serves besides /v1 and /health (api/main.py:96,113-114,161 at the app contract's
# commit; FastAPI's default docs): none of it is for the browser.
NOT_FOR_THE_BROWSER = [
    f"{app.BROWSER_API_PREFIX}{app.API_METRICS_PATH}",
    f"{app.BROWSER_API_PREFIX}{app.API_METRICS_PATH.rstrip('/')}",
    "/API/Metrics/",
    f"{app.BROWSER_API_PREFIX}/health/health/metrics",
    f"{app.BROWSER_API_PREFIX}/health/health/test",
    f"{app.BROWSER_API_PREFIX}/health/",
    # The detailed health's other entries and whole report stay inside: only the smoke check's two.
    f"{app.BROWSER_API_PREFIX}{app.API_COMPONENT_HEALTH_PATH}system",
    f"{app.BROWSER_API_PREFIX}{app.API_COMPONENT_HEALTH_PATH}api",
    f"{app.BROWSER_API_PREFIX}{app.API_REDIS_HEALTH_PATH}/x",
    f"{app.BROWSER_API_PREFIX}{app.API_REDIS_HEALTH_PATH}x",
    f"{app.BROWSER_API_PREFIX}/health/health/status",
    f"{app.BROWSER_API_PREFIX}/health/health/",
    f"{app.BROWSER_API_PREFIX}/docs",
    f"{app.BROWSER_API_PREFIX}/openapi.json",
    f"{app.BROWSER_API_PREFIX}/",
]


@pytest.mark.parametrize(("url", "backend", "upstream"), BROWSER_PATHS)
@pytest.mark.parametrize("stack", STACKS)
def test_each_browser_path_reaches_its_backend_as_the_path_it_serves(
    stack: str, url: str, backend: tuple[str, int], upstream: str
) -> None:
    domain = settings(stack).identity.domain
    assert resolve(rendered(stack), domain, url) == Upstream(*backend, upstream)


@pytest.mark.parametrize("url", NOT_FOR_THE_BROWSER)
@pytest.mark.parametrize("stack", STACKS)
def test_what_the_api_serves_besides_the_browsers_calls_never_reaches_it_from_the_internet(
    stack: str, url: str
) -> None:
    domain = settings(stack).identity.domain
    assert resolve(rendered(stack), domain, url).service != workload_name("api")


@pytest.mark.parametrize("stack", STACKS)
def test_the_apps_calls_arrive_under_the_prefix_its_routers_serve(stack: str) -> None:
    domain = settings(stack).identity.domain
    # What the frontend calls (api.ts: /api/v1/..., workspace.ts: /api/v1/ws/<project>).
    call = resolve(rendered(stack), domain, f"{app.BROWSER_API_PREFIX}{app.API_ROUTE_PREFIX}/projects/")
    assert call.path.startswith(f"{app.API_ROUTE_PREFIX}/")
    session = resolve(rendered(stack), domain, f"{app.BROWSER_API_PREFIX}{app.API_WEBSOCKET_PATH}{PROJECT}")
    assert session.path == f"{app.API_WEBSOCKET_PATH}{PROJECT}"
    assert (call.service, session.service) == (workload_name("api"), workload_name("api"))


# Where each of the smoke check's probes must land (infra/ops/releases/smoke.py).
PROBE_BACKENDS = {
    "health": (API, app.API_HEALTH_PATH),
    "database": (API, app.API_DATABASE_HEALTH_PATH),
    "redis": (API, app.API_REDIS_HEALTH_PATH),
    "frontend page": (SITE, app.FRONTEND_HEALTH_PATH),
    "frontend asset": (SITE, app.FRONTEND_HEALTH_PATH),
    "websocket": (API, f"{app.API_WEBSOCKET_PATH}{smoke.WEBSOCKET_PROJECT}"),
}


@pytest.mark.parametrize("stack", STACKS)
def test_each_smoke_probe_reaches_the_backend_that_answers_it(stack: str) -> None:
    domain = settings(stack).identity.domain
    assert urlsplit(health_url(domain))[:2] == ("https", domain)
    checks = smoke.probes(database=True)
    assert {probe.name for probe in checks} == set(PROBE_BACKENDS)
    for probe in checks:
        backend, path = PROBE_BACKENDS[probe.name]
        assert resolve(rendered(stack), domain, probe.path) == Upstream(*backend, path), probe.name
    # The asset a page names is the site's, as the page is.
    assert resolve(rendered(stack), domain, "/assets/index-B4f9xZ2q.js") == Upstream(
        *SITE, "/assets/index-B4f9xZ2q.js"
    )


@pytest.mark.parametrize("stack", STACKS)
def test_a_session_outlives_the_longest_job_it_waits_for(stack: str) -> None:
    (api,) = (i for i in rendered(stack) if i["metadata"]["name"] == routes.API)
    annotations = api["metadata"]["annotations"]
    for timeout in ("proxy-read-timeout", "proxy-send-timeout"):
        # nginx's 60 s default would cut a websocket while the worker runs a job.
        assert int(annotations[f"{NGINX}/{timeout}"]) >= app.WORKER_JOB_TIMEOUT_SECONDS, timeout


@pytest.mark.parametrize("stack", STACKS)
def test_both_ingresses_serve_the_domain_over_tls_to_ports_the_pods_listen_on(stack: str) -> None:
    spec = m.AppSpec.of(settings(stack))
    listening = {
        workload_name("api"): m.api_deployment(NAMING, spec, "image"),
        workload_name("frontend"): m.frontend_deployment(NAMING, spec, "image"),
    }
    ingresses = rendered(stack)
    assert len({i["metadata"]["name"] for i in ingresses}) == len(ingresses)
    for ingress in ingresses:
        kubernetes_validate.validate(ingress, f"{settings(stack).cluster.version}.0", strict=True)
        ((tls,), (rule,)) = ingress["spec"]["tls"], ingress["spec"]["rules"]
        assert tls == {"hosts": [spec.domain], "secretName": TLS_SECRET}
        assert rule["host"] == spec.domain
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            (container,) = listening[backend["name"]]["spec"]["template"]["spec"]["containers"]
            assert backend["port"]["number"] in {p["containerPort"] for p in container["ports"]}


def test_the_rewrite_stays_on_the_api_ingress_and_off_the_site() -> None:
    site, api = rendered("staging")
    # A rewrite applies to every path of its Ingress: on the site's it would rewrite every page.
    assert not any(key.startswith(NGINX) for key in site["metadata"]["annotations"])
    assert api["metadata"]["annotations"][f"{NGINX}/rewrite-target"] == routes.API_REWRITE


# --- the resolver itself -------------------------------------------------------------------


def _ingress(paths: list[tuple[str, str, str]], annotations: dict[str, str] | None = None) -> Ingress:
    def backend(service: str) -> dict[str, Any]:
        return {"service": {"name": service, "port": {"number": 1}}}

    return {
        "metadata": {"annotations": annotations or {}},
        "spec": {
            "rules": [
                {
                    "host": "h",
                    "http": {
                        "paths": [{"path": p, "pathType": t, "backend": backend(s)} for p, t, s in paths]
                    },
                }
            ]
        },
    }


def test_the_resolver_matches_plain_prefixes_by_segment_and_exact_paths_first() -> None:
    ingresses = [_ingress([("/api", "Prefix", "a"), ("/", "Prefix", "s"), ("/api/x", "Exact", "e")])]
    assert resolve(ingresses, "h", "/apiary").service == "s"
    assert resolve(ingresses, "h", "/api/v1").service == "a"
    assert resolve(ingresses, "h", "/api/x").service == "e"


def test_the_resolver_turns_every_prefix_of_the_host_into_a_regex_once_one_ingress_asks() -> None:
    plain = _ingress([("/api", "Prefix", "a"), ("/", "Prefix", "s")])
    regex = _ingress([("/other", "ImplementationSpecific", "o")], {f"{NGINX}/use-regex": "true"})
    # As regexes, ^/api also matches /apiary: the longest path that matches wins.
    assert resolve([plain, regex], "h", "/apiary").service == "a"
    assert resolve([plain], "h", "/apiary").service == "s"


def test_the_resolver_with_regexes_on_makes_an_exact_path_a_regex_and_tries_longer_paths_first() -> None:
    ingresses = [
        _ingress([("/api/x", "Exact", "e"), ("/", "Prefix", "s")]),
        _ingress([("/api/longer", "ImplementationSpecific", "l")], {f"{NGINX}/use-regex": "true"}),
    ]
    # template.go:530-532: with regexes on, "= /api/x" is written as ~* "^/api/x".
    assert resolve(ingresses, "h", "/api/xyz").service == "e"
    assert resolve(ingresses, "h", "/API/LONGER/1").service == "l"
    assert resolve(ingresses, "h", "/api/y").service == "s"


def test_the_resolver_rewrites_with_the_locations_groups() -> None:
    rewriting = _ingress(
        [("/x(/|$)(.*)", "ImplementationSpecific", "x")],
        {f"{NGINX}/use-regex": "true", f"{NGINX}/rewrite-target": "/$2"},
    )
    assert resolve([rewriting], "h", "/x/a/b") == Upstream("x", 1, "/a/b")
    assert resolve([rewriting], "h", "/X") == Upstream("x", 1, "/")
