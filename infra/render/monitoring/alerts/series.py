"""The series the platform's recording rules record, which the alerts and dashboards read."""

from __future__ import annotations

# The app's own count: every request its middleware saw, kubelet probes and scrapes included.
HTTP_RATE = "samokoder:http_requests:rate5m"
# At the edge: the API's Ingress, users' requests only, a crashed handler's 500 included.
EDGE_RATE = "samokoder:edge_requests:rate5m"
HTTP_ERROR_RATIO = "samokoder:edge_errors:ratio_rate5m"
HTTP_LATENCY = {q: f"samokoder:edge_request_duration_seconds:p{q}_5m" for q in (50, 95, 99)}
RATE_LIMITED_RATIO = "samokoder:rate_limit_hits:ratio_rate5m"
LLM_ERROR_RATIO = "samokoder:llm_errors:ratio_rate5m"
LLM_LATENCY_P95 = "samokoder:llm_request_duration_seconds:p95_5m"
LLM_TOKENS_RATE = "samokoder:llm_tokens:rate1h"
DB_ERROR_RATIO = "samokoder:db_errors:ratio_rate5m"
DB_QUERY_P95 = "samokoder:db_query_duration_seconds:p95_5m"
CPU_RATIO = "samokoder:container_cpu_usage:ratio_limit"
MEMORY_RATIO = "samokoder:container_memory_working_set:ratio_limit"
VOLUME_RATIO = "samokoder:volume_usage:ratio_capacity"
FD_RATIO = "samokoder:file_descriptors:ratio_max"
POOL_RATIO = "samokoder:db_pool:ratio_max"
QUEUE_RATIO = "samokoder:worker_queue:ratio_capacity"
REDIS_MEMORY_RATIO = "samokoder:redis_memory:ratio_max"
AUTH_FAILURE_RATIO = "samokoder:auth_failures:ratio_rate5m"
