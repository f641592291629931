"""The API's dependencies: Redis; the LLM providers and the database as the app sees them."""

from __future__ import annotations

from infra.render.monitoring import contract as m
from infra.render.monitoring.alerts import series as rec
from infra.render.monitoring.promql import quantile, ratio, ratio_of, selector, sum_rate
from infra.render.monitoring.rules import Alert, Recording, RuleFile, RuleGroup, threshold_alerts
from infra.settings.monitoring import InstrumentationGroup, Thresholds


def redis(t: Thresholds) -> RuleGroup:
    """Redis holds the worker's queue and the rate limiter's counters, and runs noeviction."""
    per_redis = "max by (namespace)"
    # maxmemory 0 means no limit: no ratio then.
    memory_max = f"{selector(m.REDIS_MEMORY_MAX, m.REDIS)} > 0"
    memory = ratio_of(per_redis, selector(m.REDIS_MEMORY_USED, m.REDIS), memory_max)
    return RuleGroup(
        "samokoder-redis",
        (
            Recording(rec.REDIS_MEMORY_RATIO, memory),
            Alert(
                "RedisDown",
                f"{per_redis} ({selector(m.REDIS_UP, m.REDIS)}) == 0",
                "critical",
                "Redis does not answer its exporter",
                "redis_exporter has not reached Redis for 2 minutes: the worker's queue and the API's "
                "rate limiter are down with it.",
                for_="2m",
                labels={"service": "redis"},
            ),
            *threshold_alerts(
                "RedisMemoryHigh",
                rec.REDIS_MEMORY_RATIO,
                t.redis_memory,
                summary="Redis memory is filling up",
                description="Redis uses {{ $value | humanizePercentage }} of its maxmemory (threshold "
                "{level}); it runs noeviction, so when full it refuses every write: no job is queued.",
                for_="10m",
                labels={"service": "redis"},
            ),
            Alert(
                "RedisRejectingConnections",
                f"sum by (namespace) (increase({selector(m.REDIS_REJECTED, m.REDIS)}[5m])) > 0",
                "warning",
                "Redis rejects connections",
                "Redis refused {{ $value | humanize }} connection(s) in 5 minutes: maxclients is reached "
                "and the app's Redis calls fail.",
                for_="5m",
                labels={"service": "redis"},
            ),
        ),
    )


def dependencies(t: Thresholds, groups: frozenset[InstrumentationGroup]) -> RuleFile:
    return RuleFile(
        "dependencies",
        (
            redis(t),
            *((llm(t),) if "llm" in groups else ()),
            *((database_client(t),) if "database" in groups else ()),
        ),
    )


def llm(t: Thresholds) -> RuleGroup:
    """The LLM providers as the app sees them: errors, latency, token spend."""
    llm_errors = sum_rate(m.LLM_ERRORS, "5m", ["provider"])
    llm_requests = sum_rate(m.LLM_REQUESTS, "5m", ["provider"])
    tokens_now = sum_rate(m.LLM_TOKENS, "1h")
    tokens_day_before = f"sum(rate({m.LLM_TOKENS}[1d] offset 1h))"
    return RuleGroup(
        "samokoder-llm",
        (
            Recording(rec.LLM_ERROR_RATIO, ratio(llm_errors, llm_requests)),
            Recording(rec.LLM_LATENCY_P95, quantile(0.95, m.LLM_DURATION, [], "5m", ["provider"])),
            Recording(rec.LLM_TOKENS_RATE, tokens_now),
            *threshold_alerts(
                "LlmErrorRateHigh",
                rec.LLM_ERROR_RATIO,
                t.llm_error_rate,
                summary="LLM provider {{ $labels.provider }} fails requests",
                description="{{ $value | humanizePercentage }} of requests to {{ $labels.provider }} failed "
                "over 5 minutes (threshold {level}).",
                for_="10m",
                labels={"service": "llm"},
            ),
            *threshold_alerts(
                "LlmLatencyHigh",
                rec.LLM_LATENCY_P95,
                t.llm_latency_p95_seconds,
                summary="LLM provider {{ $labels.provider }} is slow",
                description="P95 latency of {{ $labels.provider }} is {{ $value | humanizeDuration }} "
                "(threshold {level}).",
                for_="15m",
                labels={"service": "llm"},
            ),
            # rate() over a day divides by the whole day: the comparison only
            # holds once the counter existed at the start of that day.
            Alert(
                "LlmTokenSpike",
                f"{rec.LLM_TOKENS_RATE}\n> {t.llm_token_spike_factor:g} * {tokens_day_before}\n"
                f"and on() count({m.LLM_TOKENS} offset 25h) > 0",
                "warning",
                "LLM token consumption spiked",
                f"Tokens per second over the last hour are more than {t.llm_token_spike_factor:g}x "
                "the average of the day before: LLM cost is rising fast.",
                for_="15m",
                labels={"service": "llm"},
            ),
        ),
    )


def database_client(t: Thresholds) -> RuleGroup:
    """The database as the app's client sees it: failed and slow queries."""
    queries = sum_rate(f"{m.DB_DURATION}_count", "5m")
    return RuleGroup(
        "samokoder-database-client",
        (
            Recording(rec.DB_ERROR_RATIO, ratio(sum_rate(m.DB_ERRORS, "5m"), queries)),
            Recording(rec.DB_QUERY_P95, quantile(0.95, m.DB_DURATION, [], "5m", ["operation"])),
            *threshold_alerts(
                "DatabaseErrorRateHigh",
                rec.DB_ERROR_RATIO,
                t.db_error_rate,
                summary="Database queries fail",
                description="{{ $value | humanizePercentage }} of the app's database queries failed "
                "over 5 minutes (threshold {level}).",
                for_="5m",
                labels={"service": "database"},
            ),
            *threshold_alerts(
                "DatabaseQueriesSlow",
                rec.DB_QUERY_P95,
                t.db_query_p95_seconds,
                summary="Slow {{ $labels.operation }} queries",
                description="P95 of {{ $labels.operation }} queries is {{ $value | humanizeDuration }} "
                "(threshold {level}).",
                for_="10m",
                labels={"service": "database"},
            ),
        ),
    )
