"""The facts of ingress-nginx's request metrics this program relies on, read at the pinned version.

The API's SLIs are measured at the edge, from the controller's own per-request
metrics: they count a crashed handler's 500 (the app's counter does not) and
never see kubelet probes or Prometheus scrapes (which reach the pods directly).
Every fact names the file it was read from in ``kubernetes/ingress-nginx`` at
tag ``controller-v1.15.1`` (the controller of chart 4.15.1), so an upgrade is a
change of one entry here. ``tests/infra/render/monitoring/sources.py`` catalogues
these series with the other sources.
"""

from __future__ import annotations

from typing import Final

CONTROLLER_VERSION: Final = "v1.15.1"
CHART_VERSION: Final = "4.15.1"
_SOCKET = "internal/ingress/metric/collectors/socket.go"
_FLAGS = "pkg/flags/flags.go"

# PrometheusNamespace (internal/ingress/metric/collectors/main.go:20) + the collector's names.
REQUESTS: Final = "nginx_ingress_controller_requests"
REQUEST_DURATION: Final = "nginx_ingress_controller_request_duration_seconds"
SOURCES: Final = {
    # A CounterVec named "requests": Prometheus's text format keeps it without _total.
    REQUESTS: f"{_SOCKET}:242-252",
    # request_time of nginx's log phase: the whole request, upstream and client included.
    REQUEST_DURATION: f"{_SOCKET}:197-210,380-387",
}

# requestTags (socket.go:89-99), plus "host" since --metrics-per-host defaults to true
# (flags.go:179; socket.go:132-134); "canary" is empty (so absent) without a canary.
REQUEST_LABELS: Final = ("status", "method", "path", "namespace", "ingress", "service", "canary", "host")
# constLabels of every socket metric (socket.go:125-129).
CONST_LABELS: Final = ("controller_namespace", "controller_class", "controller_pod")

# The chart's ServiceMonitor leaves honorLabels unset (charts/ingress-nginx/values.yaml:948,
# templates/controller-servicemonitor.yaml at helm-chart-4.15.1), so Prometheus keeps the
# target's namespace and service (the controller's) and renames the request's own to
# exported_namespace and exported_service. The rules therefore select the API's Ingress by
# "ingress", which collides with no target label.


# A canary Ingress (canary: "true") makes no location of its own: the controller merges its
# backend into the main Ingress's location of the same host, path and pathType as an
# alternative backend (internal/ingress/controller/controller.go:917-925,1330,1405,1701).
# Its requests are logged in that location, so they keep the main Ingress's "ingress" and
# "service" labels (rootfs/etc/nginx/template/nginx.tmpl:1152-1154); only "canary" tells
# them apart: the balancer sets it to the alternative upstream's name when it routes there
# (rootfs/etc/nginx/lua/balancer.lua:294-297, monitor.lua:40), and it is empty otherwise
# (nginx.tmpl:1201), which Prometheus stores as no label.
CANARY_ANNOTATION: Final = "nginx.ingress.kubernetes.io/canary"
# A worker of the controller's nginx picks up a changed list of endpoints (a pod ending, a canary
# removed) at most this long after the controller posts it (rootfs/etc/nginx/lua/balancer.lua:21-25).
BACKENDS_SYNC_SECONDS: Final = 1


def upstream_name(namespace: str, service: str, port: int) -> str:
    """An upstream's name, as the "canary" label carries it: internal/ingress/controller/util.go:50-54."""
    return f"{namespace}-{service}-{port}"


# --time-buckets defaults to client_golang's DefBuckets (flags.go:186; client_golang v1.23.2
# per go.mod, prometheus/histogram.go: DefBuckets); the chart passes none (values.yaml:212
# only shows how). A latency SLI counts the requests in a bucket, so its threshold has to be
# one of these bounds.
TIME_BUCKETS_SECONDS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# A websocket upgrade is logged (and observed) when the connection closes, after up to the
# Ingress's proxy-read-timeout: its request_time is the session's length, not a latency.
WEBSOCKET_STATUS: Final = "101"
