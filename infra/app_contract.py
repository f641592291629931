"""What the Samokoder app is, as this program depends on it: read from the app's own code.

The app is ``AlexeyPevz/Samokoder``, branch
``cursor/audit-and-enhance-deployment-pipelines-and-observability-604e`` at ``APP_COMMIT``.
Every fact names the file (and line) it was read from, so a change in the app is a change
of one entry here. ``docs/app-contract.md`` is the same contract for people.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

APP_REPOSITORY: Final = "AlexeyPevz/Samokoder"
APP_COMMIT: Final = "a34998931499bb2b80090ddc33b03381471c61de"  # pragma: allowlist secret (a commit id)

ProcessName = Literal["api", "worker", "frontend", "migrations"]
MetricType = Literal["counter", "gauge", "histogram", "info"]


@dataclass(frozen=True)
class EnvVar:
    name: str
    # Without it the process does not start or runs wrong here (a default that points
    # at localhost or a development mode counts as wrong).
    required: bool
    purpose: str
    source: str


@dataclass(frozen=True)
class Process:
    name: ProcessName
    # Empty: the image's own entry point (the frontend's nginx).
    command: tuple[str, ...]
    port: int | None
    health_path: str | None
    env: tuple[EnvVar, ...]
    # Directories the process writes at start or while it runs (relative paths resolve against /app).
    writable_paths: tuple[str, ...]
    source: str

    def required_env(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.env if v.required)


@dataclass(frozen=True)
class Metric:
    name: str
    type: MetricType
    labels: tuple[str, ...]
    # False: defined in the app, never set: no series, or a constant 0.
    emitted: bool
    source: str
    buckets: tuple[float, ...] = ()


# --- ports, paths and routes -----------------------------------------------------

# The API's port: compose starts uvicorn with --port 8000 (docker-compose.yml:22; Dockerfile:46).
API_PORT: Final = 8000
# The frontend's nginx listens on 80 (frontend/nginx.conf:2; frontend/Dockerfile:29).
FRONTEND_PORT: Final = 80
# A constant {"status": "ok"}, no dependency checked (api/main.py:169-171).
API_HEALTH_PATH: Final = "/health"
FRONTEND_HEALTH_PATH: Final = "/"
# The site's build names its scripts and styles by content hash (/assets/<name>-<hash>.js):
# frontend/vite.config.ts sets no file names, so Vite's defaults apply (vite 5.4.20 per
# frontend/package-lock.json:13190-13191; vite v5.4.20 packages/vite/src/node/build.ts:338,
# 671-677), and the built index.html names the entry script (plugins/html.ts:716-724). A page
# from one build asks for files only that build has. A canary that splits requests at random
# would serve one build's page with the other's missing assets, so the frontend rolls whole,
# with the promotion (infra/render/workloads/canary.py).
FRONTEND_HASHED_ASSETS: Final = "frontend/package-lock.json:13190-13191 (vite 5.4.20's default names)"
FRONTEND_ASSETS_PATH: Final = "/assets/"
# A missing .js or .css is a 404, not the SPA's index.html: nginx prefers the regex location
# of scripts and styles, which has no try_files fallback (frontend/nginx.conf:11-12,27-30).
# prometheus_client's ASGI app is mounted at /metrics (api/main.py:113-114): a Mount
# answers /metrics with a 307 to /metrics/, so scrape the slash.
API_METRICS_PATH: Final = "/metrics/"
# Every business router is included under /v1 (api/main.py:148-159); the websocket of a
# generation session is /v1/ws/{project_id}?token=... (api/routers/workspace.py:72).
API_ROUTE_PREFIX: Final = "/v1"
API_WEBSOCKET_PATH: Final = "/v1/ws/"
# An upgrade without ?token= never reaches the handler: FastAPI 0.111.1 (poetry.lock:925-926)
# closes a websocket whose dependencies fail validation with 1008 before accepting it
# (fastapi/exception_handlers.py:29-34, routing.py:346; token is Query(...),
# api/routers/workspace.py:19-21), and uvicorn 0.30.6 (poetry.lock:2988-2989) answers a close
# before the accept with HTTP 403 (uvicorn/protocols/websockets/websockets_impl.py:289-296).
# A plain GET of the path is FastAPI's 404 (no HTTP route), so the 403 shows that the upgrade
# reached the API as a websocket; it cannot tell this route from an unknown websocket path
# (Starlette refuses those the same way), and without a token nothing past it can be checked.
API_WEBSOCKET_UNAUTHENTICATED_STATUS: Final = 403
# The detailed health router: its own prefix /health under the include's /health
# (core/monitoring/health.py:30; api/main.py:161). GET .../components/<name> answers 200
# with the component's {"status": "healthy"|"degraded"|"unhealthy", "message": ...} whatever
# its state (core/monitoring/health.py:33-48,388-407), after checking every component once.
# No credential, no write; each call blocks the event loop for psutil's 0.1 s CPU sample
# (core/monitoring/health.py:157).
API_COMPONENT_HEALTH_PATH: Final = "/health/health/components/"
COMPONENT_HEALTHY: Final = "healthy"
# Redis: PING and INFO on REDIS_URL (core/monitoring/health.py:69-76,111-124).
API_REDIS_HEALTH_PATH: Final = f"{API_COMPONENT_HEALTH_PATH}redis"
# The database: always "unhealthy" at APP_COMMIT, whatever the database's state.
# check_database iterates get_db() with `async for` (core/monitoring/health.py:83), but get_db
# is a plain generator (core/db/session.py:55): a TypeError, caught as "Database connection
# failed" (:99-109), before any connection. No other route reads the database without a
# credential or a write (the login records every attempt, api/routers/auth.py:186-217), so
# the smoke check cannot see the database until the app awaits get_async_db there instead.
API_DATABASE_HEALTH_PATH: Final = f"{API_COMPONENT_HEALTH_PATH}database"
DATABASE_HEALTH_REPORTS_THE_DATABASE: Final = False
# The browser calls the same origin under /api: /api/v1/... and /api/v1/ws/<project>
# (frontend/src/api/api.ts:5, frontend/src/api/workspace.ts:7-10); the app's own compose
# strips /api in front of the API (docker-compose.yml:45-51). Its nginx does not proxy it.
BROWSER_API_PREFIX: Final = "/api"
# The worker's job timeout: arq's default, not overridden (worker/main.py:109-114).
WORKER_JOB_TIMEOUT_SECONDS: Final = 300
# arq's default queue, a sorted set: its depth is ZCARD (arq 0.26 constants.py; worker/main.py:109).
QUEUE_KEY: Final = "arq:queue"

# The bucket bounds of samokoder_http_request_duration_seconds (api/middleware/metrics.py:29).
# A latency SLI counts requests in a bucket, so its threshold has to be one of these bounds.
LATENCY_BUCKETS_SECONDS: Final = (0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)

# --- environment ------------------------------------------------------------------

_CONFIG = "core/config/config.py"
SECRET_KEY = EnvVar(
    "SECRET_KEY", True, "access-token signing; a Fernet key for stored tokens", f"{_CONFIG}:163"
)
APP_SECRET_KEY = EnvVar(
    "APP_SECRET_KEY", True, "refresh-token signing; the Fernet key of users' LLM keys", f"{_CONFIG}:164"
)
DATABASE_URL = EnvVar(
    "SAMOKODER_DATABASE_URL",
    True,
    "postgresql+asyncpg:// URL; DATABASE_URL is not read (its alias sits on a plain model)",
    f"{_CONFIG}:155-167; alembic/env.py:59,82",
)
ENVIRONMENT = EnvVar(
    "ENVIRONMENT",
    True,
    "only 'production' turns on fail-fast secret checks, secure cookies and HSTS; default 'development'",
    f"{_CONFIG}:168; core/config/validator.py:45",
)
REDIS_HOST = EnvVar(
    "REDIS_HOST", True, "arq queue and rate-limit storage; default localhost", "worker/main.py:112"
)
REDIS_PORT = EnvVar(
    "REDIS_PORT",
    True,
    "int(); Kubernetes service links would inject tcp://... under this name and crash the worker",
    "worker/main.py:113",
)
CORS_ORIGINS = EnvVar(
    "CORS_ORIGINS", True, "comma-separated; unset, production allows samokoder.io only", "api/main.py:121-128"
)
CONFIG_DIR = EnvVar(
    "SAMOKODER_CONFIG_DIR",
    True,
    "the worker writes config.json here at import; the default is the (read-only) home",
    "core/config/user_settings.py:35-49,77-99",
)
REDIS_URL = EnvVar(
    "REDIS_URL", False, "only the detailed health check reads it", "core/monitoring/health.py:72-75"
)
FORWARDED_ALLOW_IPS = EnvVar(
    "FORWARDED_ALLOW_IPS",
    False,
    "uvicorn trusts X-Forwarded-For from these; the rate limiter keys on the client address",
    "api/middleware/rate_limiter.py:31 (uvicorn reads the variable)",
)
DISABLE_TELEMETRY = EnvVar(
    "DISABLE_TELEMETRY",
    False,
    "any value turns off phone-home telemetry",
    "core/telemetry/__init__.py:329,371",
)

# --- processes --------------------------------------------------------------------

_VENV = "/app/.venv/bin"
# The backend image (Dockerfile, python:3.12-slim, WORKDIR /app) has no CMD or ENTRYPOINT.
_BACKEND_ENV = (SECRET_KEY, APP_SECRET_KEY, DATABASE_URL, ENVIRONMENT, REDIS_HOST, REDIS_PORT)
API = Process(
    name="api",
    command=(f"{_VENV}/uvicorn", "samokoder.api.main:app", "--host", "0.0.0.0", "--port", str(API_PORT)),
    port=API_PORT,
    health_path=API_HEALTH_PATH,
    env=(*_BACKEND_ENV, CORS_ORIGINS, REDIS_URL, FORWARDED_ALLOW_IPS, DISABLE_TELEMETRY),
    # The audit log handler opens logs/security_audit.log at import (core/security/audit_logger.py:14,126).
    writable_paths=("/app/logs", "/tmp"),
    source="docker-compose.yml:22; Dockerfile:22-46",
)
WORKER_SETTINGS: Final = "samokoder.worker.main.WorkerSettings"
WORKER = Process(
    name="worker",
    command=(f"{_VENV}/arq", WORKER_SETTINGS),
    # No HTTP server; `arq --check` reads the health key the worker writes to Redis.
    port=None,
    health_path=None,
    env=(*_BACKEND_ENV, CONFIG_DIR, DISABLE_TELEMETRY),
    # Generated projects go to workspace/ (core/config/config.py:121).
    writable_paths=("/app/workspace", "/app/config", "/tmp"),
    source="docker-compose.yml:57,66; worker/main.py:109-114",
)
WORKER_CHECK: Final = (f"{_VENV}/arq", "--check", WORKER_SETTINGS)
FRONTEND = Process(
    name="frontend",
    command=(),
    port=FRONTEND_PORT,
    # Any path answers index.html with 200 (the SPA fallback, frontend/nginx.conf:11-17).
    health_path=FRONTEND_HEALTH_PATH,
    env=(),
    writable_paths=("/var/cache/nginx", "/var/run", "/tmp"),
    source="frontend/Dockerfile:20-29; frontend/nginx.conf",
)
# alembic/versions has three heads (c61fd4859b33, 202510070001, sec_001): `upgrade head`
# refuses, `upgrade heads` applies them all.
MIGRATIONS = Process(
    name="migrations",
    command=(f"{_VENV}/alembic", "-c", "/app/alembic.ini", "upgrade", "heads"),
    port=None,
    health_path=None,
    env=(DATABASE_URL,),
    writable_paths=("/tmp",),
    source="alembic.ini:8; alembic/env.py:59,82; README.md:96",
)
PROCESSES: Final = (API, WORKER, FRONTEND, MIGRATIONS)

# The tables `alembic upgrade heads` leaves (the three heads above): what a restored copy must hold
# for the app to run on it, with Alembic's own record of the revision.
TABLES: Final = (
    # alembic/versions/c61fd4859b32_initial_migration.py:25-156
    "file_contents",
    "specifications",
    "users",
    "projects",
    "branches",
    "project_states",
    "exec_logs",
    "files",
    "llm_requests",
    "user_inputs",
    # alembic/versions/20251007_normalize_project_state.py:25-97
    "epics",
    "tasks",
    "steps",
    "iterations",
    # alembic/versions/add_security_tables.py:21-33
    "revoked_tokens",
    "login_attempts",
    # Alembic's version table: its default name (alembic/env.py configures no version_table).
    "alembic_version",
)

# --- metrics (api/middleware/metrics.py, the default registry, served at /metrics/) -----

_M = "api/middleware/metrics.py"
METRICS: Final = (
    Metric("samokoder_app_info", "info", ("version", "environment"), True, f"{_M}:11-15"),
    # Not counted for an unhandled exception's 500 (the middleware has no except), counted for
    # /health and /metrics; endpoint is the raw path, status the code as a string.
    Metric(
        "samokoder_http_requests_total", "counter", ("method", "endpoint", "status"), True, f"{_M}:237,257"
    ),
    Metric(
        "samokoder_http_request_duration_seconds",
        "histogram",
        ("method", "endpoint"),
        True,
        f"{_M}:29,238",
        LATENCY_BUCKETS_SECONDS,
    ),
    Metric("samokoder_http_requests_in_progress", "gauge", ("method", "endpoint"), True, f"{_M}:247,269"),
    # Any response with status 429; limit_type is always "unknown".
    Metric("samokoder_rate_limit_hits_total", "counter", ("endpoint", "limit_type"), True, f"{_M}:260-264"),
    # Set on about one request in ten, node-wide figures from psutil.
    Metric("samokoder_system_cpu_usage_percent", "gauge", (), True, f"{_M}:218,272-274"),
    Metric("samokoder_system_memory_usage_bytes", "gauge", ("type",), True, f"{_M}:222-224"),
    Metric("samokoder_system_disk_usage_bytes", "gauge", ("path", "type"), True, f"{_M}:228-230"),
    Metric("samokoder_projects_created_total", "counter", ("user_tier",), False, f"{_M}:40-44"),
    Metric(
        "samokoder_projects_generation_duration_seconds",
        "histogram",
        ("complexity",),
        False,
        f"{_M}:46-51",
        (10, 30, 60, 120, 300, 600, 1200, 1800, 3600),
    ),
    Metric("samokoder_llm_requests_total", "counter", ("provider", "model", "agent"), False, f"{_M}:53-57"),
    Metric(
        "samokoder_llm_tokens_consumed_total",
        "counter",
        ("provider", "model", "token_type"),
        False,
        f"{_M}:59-63",
    ),
    Metric("samokoder_llm_request_errors_total", "counter", ("provider", "error_type"), False, f"{_M}:65-69"),
    Metric(
        "samokoder_llm_request_duration_seconds",
        "histogram",
        ("provider", "model"),
        False,
        f"{_M}:71-76",
        (0.5, 1, 2, 5, 10, 20, 30, 60),
    ),
    Metric("samokoder_db_connections_active", "gauge", (), False, f"{_M}:80-83"),
    Metric(
        "samokoder_db_query_duration_seconds",
        "histogram",
        ("operation",),
        False,
        f"{_M}:85-90",
        (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
    ),
    Metric("samokoder_db_errors_total", "counter", ("error_type",), False, f"{_M}:92-96"),
    Metric("samokoder_docker_containers_running", "gauge", ("managed_by",), False, f"{_M}:125-129"),
    Metric("samokoder_db_connection_pool_size", "gauge", ("state",), False, f"{_M}:134-138"),
    Metric("samokoder_db_connection_pool_saturation_percent", "gauge", (), False, f"{_M}:140-143"),
    Metric("samokoder_worker_queue_depth", "gauge", ("queue_name",), False, f"{_M}:146-150"),
    Metric("samokoder_worker_queue_saturation_percent", "gauge", ("queue_name",), False, f"{_M}:152-156"),
    # Their setters sit in update_saturation_metrics / update_slo_metrics, which nothing calls.
    Metric("samokoder_file_descriptors_open", "gauge", (), False, f"{_M}:277-288"),
    Metric("samokoder_file_descriptors_max", "gauge", (), False, f"{_M}:277-284"),
    Metric("samokoder_network_connections_active", "gauge", ("state",), False, f"{_M}:297-298"),
    Metric("samokoder_error_budget_remaining_percent", "gauge", ("slo_type",), False, f"{_M}:306-342"),
    Metric("samokoder_availability_slo_target", "gauge", (), False, f"{_M}:315"),
    Metric("samokoder_availability_slo_current", "gauge", (), False, f"{_M}:320"),
    Metric("samokoder_latency_slo_target_seconds", "gauge", (), False, f"{_M}:316"),
    Metric("samokoder_auth_attempts_total", "counter", ("result",), False, f"{_M}:201-205"),
    Metric("samokoder_active_users_total", "gauge", (), False, f"{_M}:207-210"),
)
# The API process also exports prometheus_client's default collectors.
CLIENT_METRICS: Final = (
    "process_open_fds",
    "process_max_fds",
    "process_resident_memory_bytes",
    "process_cpu_seconds_total",
    "process_start_time_seconds",
    "python_info",
)
