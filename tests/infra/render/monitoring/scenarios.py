"""What the rules must do, scenario by scenario, for one stack's settings.

Each scenario holds the platform in a sequence of states and says which
alerts (name, severity) are firing and which are quiet at given times. The
load levels are derived from the stack's own thresholds (half-way between
warning and critical, or past critical), so the same scenarios test both
stacks; the expected outcome is what the thresholds and the SRE workbook's
burn rates say, never what the generator happens to produce.

Scenarios for alerts of an instrumentation group (LLM, database client,
auth, projects) exist only where the stack's settings turn the group on, and
then the app emits its metrics in every phase (``Load.instrumented``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from infra.settings.monitoring import DurationThreshold, Threshold
from infra.settings.stack import StackSettings
from tests.infra.render.monitoring.workload import Load, Phase

AlertKey = tuple[str, str]  # (alertname, severity)
HEALTHY = Load()
# Healthy minutes before a change: more than the 5m windows the alerts read.
LEAD = 10


@dataclass(frozen=True)
class Check:
    at_minutes: int
    firing: frozenset[AlertKey] = frozenset()
    quiet: frozenset[AlertKey] = frozenset()
    # Nothing but these fires (the single-5xx test: "fires nothing").
    only: frozenset[str] | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    phases: tuple[Phase, ...]
    checks: tuple[Check, ...]
    step_minutes: int = 1
    evaluation_minutes: int = 1


def _both(name: str) -> frozenset[AlertKey]:
    return frozenset({(name, "warning"), (name, "critical")})


def _between(level: Threshold) -> float:
    return (level.warning + level.critical) / 200


def _past(level: Threshold) -> float:
    return (level.critical + 100) / 200


def _pair(
    healthy: Load, name: str, settle: int, field_name: str, level: Threshold, **fixed: object
) -> list[Scenario]:
    """A warning-only scenario and a critical scenario for one threshold pair."""
    between = healthy.but(**{field_name: _between(level)}, **fixed)
    past = healthy.but(**{field_name: _past(level)}, **fixed)
    return [
        Scenario(
            f"{name} between warning and critical",
            (Phase(LEAD, healthy), Phase(settle, between)),
            (
                Check(
                    LEAD + settle - 1,
                    firing=frozenset({(name, "warning")}),
                    quiet=frozenset({(name, "critical")}),
                ),
            ),
        ),
        Scenario(
            f"{name} past critical",
            (Phase(LEAD, healthy), Phase(settle, past)),
            (Check(LEAD + settle - 1, firing=_both(name)),),
        ),
    ]


def threshold_scenarios(settings: StackSettings, healthy: Load) -> list[Scenario]:
    t = settings.thresholds
    groups = healthy.instrumented
    queue = {"queue_capacity": t.queue_depth.capacity}
    scenarios = [
        *_pair(healthy, "ApiErrorRateHigh", 15, "error_share", t.error_rate),
        *_pair(healthy, "ContainerCpuHigh", 25, "cpu", t.cpu),
        *_pair(healthy, "ContainerMemoryHigh", 25, "memory", t.memory),
        *_pair(healthy, "VolumeFillingUp", 25, "volume", t.disk),
        *_pair(healthy, "FileDescriptorsExhausting", 25, "file_descriptors", t.file_descriptors),
        *_pair(healthy, "WorkerQueueSaturated", 25, "queue", t.queue_depth, **queue),
        *_pair(healthy, "RedisMemoryHigh", 20, "redis_memory", t.redis_memory),
    ]
    if "llm" in groups:
        scenarios += _pair(healthy, "LlmErrorRateHigh", 20, "llm_error_share", t.llm_error_rate)
    if "database" in groups:
        scenarios += _pair(healthy, "DatabaseErrorRateHigh", 15, "db_error_share", t.db_error_rate)
        scenarios += _pair(healthy, "DatabasePoolSaturated", 25, "db_pool", t.db_pool)
    if "auth" in groups:
        scenarios += _pair(healthy, "AuthFailureSpike", 20, "auth_failure_share", t.auth_failure_rate)
    # Latency: the slow requests all land in one bucket, so P95 interpolates
    # to 95 % of the way through it; what fires follows from the thresholds.
    latencies: list[tuple[str, str, str | None, tuple[tuple[float, float], ...], DurationThreshold]] = [
        # ingress-nginx's buckets (DefBuckets): ... 1, 2.5, 5, 10.
        ("ApiLatencyHigh", "slow_bound", "slow_share", ((1.0, 2.5), (5.0, 10.0)), t.latency_p95_seconds),
    ]
    if "llm" in groups:
        latencies.append(
            ("LlmLatencyHigh", "llm_bound", None, ((20.0, 30.0), (30.0, 60.0)), t.llm_latency_p95_seconds)
        )
    if "database" in groups:
        latencies.append(
            ("DatabaseQueriesSlow", "db_bound", None, ((0.25, 0.5), (0.5, 1.0)), t.db_query_p95_seconds)
        )
    for name, field_name, share, buckets, limits in latencies:
        extra = {share: 1.0} if share else {}
        for lower, upper in buckets:
            p95 = lower + (upper - lower) * 0.95
            levels = {"warning": p95 > limits.warning, "critical": p95 > limits.critical}
            scenarios.append(
                Scenario(
                    f"{name} with P95 at {p95:g} s",
                    (Phase(LEAD, healthy), Phase(25, healthy.but(**{field_name: upper}, **extra))),
                    (
                        Check(
                            LEAD + 24,
                            firing=frozenset((name, level) for level, fires in levels.items() if fires),
                            quiet=frozenset((name, level) for level, fires in levels.items() if not fires),
                        ),
                    ),
                )
            )
    return scenarios


def availability_scenarios(healthy: Load) -> list[Scenario]:
    crash_loop = ("ApiPodsCrashLooping", "critical")
    return [
        Scenario(
            "API down",
            (Phase(30, healthy), Phase(10, healthy.but(api_up=False))),
            (
                Check(31, quiet=frozenset({("ApiDown", "critical")})),
                Check(
                    39,
                    firing=frozenset({("ApiDown", "critical")}),
                    quiet=frozenset({("ApiNoTraffic", "warning")}),
                ),
            ),
        ),
        Scenario(
            # Not even kubelet's probes reach the app's counter.
            "API up without any request",
            (Phase(30, healthy), Phase(30, healthy.but(rps=0.0, probe_rps=0.0))),
            (
                Check(
                    59,
                    firing=frozenset({("ApiNoTraffic", "warning")}),
                    quiet=frozenset({("ApiDown", "critical")}),
                ),
            ),
        ),
        Scenario(
            "the API's health probe fails while its metrics still flow",
            (Phase(30, healthy), Phase(5, healthy.but(api_probe_ok=False))),
            (
                Check(31, quiet=frozenset({("EndpointProbeFailing", "critical")})),
                Check(34, firing=frozenset({("EndpointProbeFailing", "critical")})),
            ),
        ),
        Scenario(
            "an exporter's target down",
            (Phase(30, healthy), Phase(10, healthy.but(exporter_up=False))),
            (
                Check(
                    39,
                    firing=frozenset({("TargetDown", "warning")}),
                    quiet=frozenset({("ApiDown", "critical")}),
                ),
            ),
        ),
        Scenario(
            "the ingress reports nothing of the API while users reach it",
            (Phase(30, healthy.but(edge_metrics=False)),),
            (
                Check(
                    29,
                    firing=frozenset(
                        {("ApiAvailabilitySliAbsent", "warning"), ("ApiLatencySliAbsent", "warning")}
                    ),
                ),
            ),
        ),
        Scenario(
            # A quiet night after the controller restarted: no series yet, and nobody to serve.
            "no user request and no series at the ingress",
            (Phase(30, healthy.but(edge_metrics=False, rps=0.0)),),
            (
                Check(
                    29,
                    quiet=frozenset(
                        {("ApiAvailabilitySliAbsent", "warning"), ("ApiLatencySliAbsent", "warning")}
                    ),
                ),
            ),
        ),
        Scenario(
            # Restarted every two minutes, backing off in between.
            "an API pod crash-loops",
            (Phase(LEAD, healthy), Phase(20, healthy.but(api_restarts_per_minute=0.5, api_backing_off=True))),
            (
                Check(LEAD + 2, quiet=frozenset({crash_loop})),
                Check(LEAD + 10, firing=frozenset({crash_loop})),
            ),
        ),
        Scenario(
            "an API pod restarts once",
            (
                Phase(LEAD, healthy),
                Phase(1, healthy.but(api_restarts_per_minute=1.0, api_backing_off=True)),
                Phase(30, healthy),
            ),
            tuple(
                Check(at, quiet=frozenset({crash_loop})) for at in (LEAD + 2, LEAD + 6, LEAD + 15, LEAD + 30)
            ),
        ),
        Scenario(
            "many requests rate-limited",
            (Phase(LEAD, healthy), Phase(20, healthy.but(rate_limited_share=0.2))),
            (
                Check(LEAD + 5, quiet=frozenset({("HighRateLimitHits", "warning")})),
                Check(LEAD + 19, firing=frozenset({("HighRateLimitHits", "warning")})),
            ),
        ),
        Scenario(
            "Redis down",
            (Phase(LEAD, healthy), Phase(10, healthy.but(redis_up=False))),
            (
                Check(LEAD + 1, quiet=frozenset({("RedisDown", "critical")})),
                Check(LEAD + 9, firing=frozenset({("RedisDown", "critical")})),
            ),
        ),
        Scenario(
            "Redis refuses connections",
            (Phase(LEAD, healthy), Phase(15, healthy.but(redis_rejected_per_second=0.5))),
            (Check(LEAD + 14, firing=frozenset({("RedisRejectingConnections", "warning")})),),
        ),
    ]


def product_scenarios(settings: StackSettings, healthy: Load) -> list[Scenario]:
    inhibitor = ("InfoInhibitor", "none")
    warning = ("ContainerCpuHigh", "warning")
    between_cpu = _between(settings.thresholds.cpu)
    scenarios = [
        # kube-prometheus-stack's info alerts (CPUThrottlingHigh) are held back alone.
        Scenario(
            "a cluster info alert alone",
            (Phase(LEAD, healthy), Phase(10, healthy.but(cluster_info_alert=True))),
            (Check(LEAD - 1, quiet=frozenset({inhibitor})), Check(LEAD + 9, firing=frozenset({inhibitor}))),
        ),
        Scenario(
            "a cluster info alert beside a warning",
            (Phase(LEAD, healthy), Phase(25, healthy.but(cluster_info_alert=True, cpu=between_cpu))),
            (Check(LEAD + 24, firing=frozenset({warning}), quiet=frozenset({inhibitor})),),
        ),
    ]
    groups = healthy.instrumented
    if "projects" in groups:
        nothing_created = healthy.but(projects_per_hour=0.0)
        info = ("NoProjectsCreated", "info")
        scenarios += [
            Scenario(
                "no project created for 7 hours",
                (Phase(60, healthy), Phase(420, nothing_created)),
                (
                    Check(60 + 300, quiet=frozenset({info, inhibitor})),
                    # Alone, the info alert is held back for the cluster's info alerts only.
                    Check(60 + 415, firing=frozenset({info, inhibitor})),
                ),
                evaluation_minutes=5,
            ),
            Scenario(
                "no project created while a warning fires",
                (Phase(60, healthy), Phase(420, nothing_created.but(cpu=between_cpu))),
                (Check(60 + 415, firing=frozenset({info, warning}), quiet=frozenset({inhibitor})),),
                evaluation_minutes=5,
            ),
        ]
    if "llm" in groups:
        scenarios.append(
            Scenario(
                "a steady day then tokens at 5x",
                (Phase(25 * 60, healthy), Phase(90, healthy.but(tokens_per_second=500.0))),
                (
                    Check(25 * 60 - 5, quiet=frozenset({("LlmTokenSpike", "warning")})),
                    Check(25 * 60 + 89, firing=frozenset({("LlmTokenSpike", "warning")})),
                ),
                step_minutes=5,
                evaluation_minutes=5,
            )
        )
    return scenarios


def slo_scenarios(settings: StackSettings, healthy: Load) -> list[Scenario]:
    availability_budget = 1 - settings.slo.availability_percent / 100
    latency_budget = 1 - settings.slo.latency_percent / 100
    page = ("ApiAvailabilityBudgetBurn", "critical")
    ticket = ("ApiAvailabilityBudgetBurn", "warning")
    # The page's 1h window crosses 14.4x the budget after 14.4 * budget * 60
    # minutes of total outage, then waits 2m: under 5 minutes at 99.9 %.
    outage_pages_within = (
        5 if availability_budget <= 0.001 else math.ceil(14.4 * availability_budget * 60) + 3
    )
    steady = healthy.but(error_share=availability_budget)
    busy = healthy.but(rps=1000.0)
    one_error = busy.but(error_share=1 / (1000 * 60))
    day = 24 * 60
    # Pods up, health checks green, scrapes fine: only the edge sees the 500s of every request.
    outage = healthy.but(error_share=1.0)
    undetected = frozenset(
        {("ApiDown", "critical"), ("EndpointProbeFailing", "critical"), ("TargetDown", "warning")}
    )
    scenarios = [
        Scenario(
            "total API outage with its pods up",
            (Phase(60, healthy), Phase(20, outage)),
            (
                Check(61, quiet=frozenset({page}) | undetected),
                Check(60 + outage_pages_within, firing=frozenset({page}), quiet=undetected),
            ),
        ),
        Scenario(
            # 0.02 % of requests fail: a fifth of the 99.9 % budget, well under any burn rate.
            "a trickle of 5xx (0.02 %) for six hours",
            (Phase(6 * 60, healthy.but(error_share=0.0002)),),
            tuple(Check(at, only=frozenset({"Watchdog"})) for at in (30, 65, 3 * 60, 6 * 60 - 5)),
            evaluation_minutes=5,
        ),
        Scenario(
            "sustained 20x burn",
            (Phase(60, healthy), Phase(60, healthy.but(error_share=20 * availability_budget))),
            (Check(60 + 59, firing=frozenset({page})),),
        ),
        Scenario(
            # A day holds the page's longest window (6h) four times over.
            "steady 1x burn for a day",
            (Phase(day, steady),),
            tuple(Check(at, quiet=frozenset({page})) for at in (30, 60, 6 * 60, 12 * 60, day - 5)),
            evaluation_minutes=5,
        ),
        Scenario(
            "2x burn for half a day",
            (Phase(12 * 60, healthy.but(error_share=2 * availability_budget)),),
            (Check(12 * 60 - 5, firing=frozenset({ticket}), quiet=frozenset({page})),),
            evaluation_minutes=5,
        ),
        Scenario(
            # With 5 % of requests allowed to be slow, 14.4x is 72 % of the last hour.
            "latency: every request slow",
            (Phase(60, healthy), Phase(60, healthy.but(slow_share=1.0))),
            (
                Check(
                    60 + math.ceil(14.4 * latency_budget * 60) + 3,
                    firing=frozenset({("ApiLatencyBudgetBurn", "critical")}),
                ),
            ),
        ),
        Scenario(
            "latency: slow 2x the budget for half a day",
            (Phase(12 * 60, healthy.but(slow_share=2 * latency_budget)),),
            (
                Check(
                    12 * 60 - 5,
                    firing=frozenset({("ApiLatencyBudgetBurn", "warning")}),
                    quiet=frozenset({("ApiLatencyBudgetBurn", "critical")}),
                ),
            ),
            evaluation_minutes=5,
        ),
        Scenario(
            "one 5xx among 1000 requests per second",
            (Phase(60, busy), Phase(1, one_error), Phase(40, busy)),
            tuple(Check(at, only=frozenset({"Watchdog"})) for at in (61, 65, 75, 100)),
        ),
    ]
    # The budget's period: a month of samples every 4 hours, evaluated as often.
    remaining = settings.thresholds.error_budget
    for slo, field_name, budget in (
        ("Availability", "error_share", availability_budget),
        ("Latency", "slow_share", latency_budget),
    ):
        name = f"Api{slo}BudgetLow"
        for left, expected in (
            ((remaining.warning + remaining.critical) / 2, {"warning"}),
            (remaining.critical / 2, {"warning", "critical"}),
        ):
            load = healthy.but(**{field_name: (1 - left / 100) * budget})
            scenarios.append(
                Scenario(
                    f"{slo.lower()} budget {left:g} % left",
                    (Phase(31 * day, load),),
                    (
                        Check(
                            31 * day - 240,
                            firing=frozenset((name, s) for s in expected),
                            quiet=frozenset((name, s) for s in {"warning", "critical"} - expected),
                        ),
                    ),
                    step_minutes=240,
                    evaluation_minutes=240,
                )
            )
    return scenarios


def database_scenarios(settings: StackSettings, healthy: Load) -> list[Scenario]:
    """Backups and WAL archiving, replicas and instances; ages follow the daily schedule."""
    instances = settings.database.instances
    lag = settings.thresholds.db_replication_lag_seconds
    too_old = _both("DatabaseBackupTooOld")
    warning_only = frozenset({("DatabaseBackupTooOld", "warning")})

    def held(name: str, load: Load, minutes: int, firing: set[AlertKey], quiet: set[AlertKey]) -> Scenario:
        return Scenario(
            name,
            (Phase(LEAD, healthy), Phase(minutes, load)),
            (Check(LEAD + minutes - 1, firing=frozenset(firing), quiet=frozenset(quiet)),),
        )

    return [
        # A daily backup 20 h old is on time; one run missed (32 h) warns; two (56 h) page.
        held("backup 20 h old", healthy.but(backup_age_hours=20), 30, set(), set(too_old)),
        held(
            "one backup run missed",
            healthy.but(backup_age_hours=32),
            30,
            set(warning_only),
            set(too_old - warning_only),
        ),
        held("two backup runs missed", healthy.but(backup_age_hours=56), 30, set(too_old), set()),
        held(
            "the last backup attempt failed",
            healthy.but(backup_failed_last=True),
            15,
            {("DatabaseBackupFailed", "warning")},
            set(),
        ),
        held(
            "the plugin exports no backup status",
            healthy.but(backup_metrics=False),
            70,
            {("DatabaseBackupMetricsAbsent", "warning")},
            set(too_old),
        ),
        held(
            "WAL archiving fails, nothing archived",
            healthy.but(wal_failures_per_second=0.1, wal_archived_per_second=0.0, wal_ready=1),
            20,
            {("DatabaseWalArchivingFailing", "critical")},
            set(),
        ),
        held(
            "an archive attempt fails now and then, the next succeeds",
            healthy.but(wal_failures_per_second=1 / 600),
            30,
            set(),
            {("DatabaseWalArchivingFailing", "critical"), ("DatabaseWalArchivingStalled", "critical")},
        ),
        Scenario(
            "WAL segments wait to be archived",
            (Phase(LEAD, healthy), Phase(20, healthy.but(wal_ready=3, wal_archived_per_second=0.0))),
            (
                Check(LEAD + 5, quiet=frozenset({("DatabaseWalArchivingStalled", "critical")})),
                Check(LEAD + 19, firing=frozenset({("DatabaseWalArchivingStalled", "critical")})),
            ),
        ),
        held(
            "a replica lags between warning and critical",
            healthy.but(replication_lag_seconds=(lag.warning + lag.critical) / 2),
            15,
            {("DatabaseReplicationLag", "warning")},
            {("DatabaseReplicationLag", "critical")},
        ),
        held(
            "a replica lags past critical",
            healthy.but(replication_lag_seconds=lag.critical * 2),
            15,
            set(_both("DatabaseReplicationLag")),
            set(),
        ),
        held(
            "one instance of the stack's cluster is not ready",
            healthy.but(db_instances=instances, db_instances_up=instances - 1),
            20,
            {("DatabaseInstancesNotReady", "warning")},
            # With a single instance that one is the whole database.
            set() if instances == 1 else {("DatabaseDown", "critical")},
        ),
        held(
            "every instance of the stack's cluster runs",
            healthy.but(db_instances=instances, db_instances_up=instances),
            20,
            set(),
            {("DatabaseInstancesNotReady", "warning"), ("DatabaseDown", "critical")},
        ),
        Scenario(
            "no database instance",
            (Phase(LEAD, healthy), Phase(10, healthy.but(db_instances=0, db_instances_up=0))),
            (
                Check(LEAD + 1, quiet=frozenset({("DatabaseDown", "critical")})),
                Check(LEAD + 9, firing=frozenset({("DatabaseDown", "critical")})),
            ),
        ),
    ]


def release_scenarios(settings: StackSettings, healthy: Load) -> list[Scenario]:
    """Flagger's verdicts: a rollback warns until the next release; an analysis past its longest, too."""
    failed, stalled = ("ApiCanaryFailed", "warning"), ("ApiCanaryStalled", "warning")
    longest = settings.canary.verdict_minutes()
    # In whole 5-minute steps: within the longest, and past it.
    within, past = 5 * (longest // 5), 5 * -(-longest // 5) + 20
    return [
        Scenario(
            "Flagger rolls a release back",
            (Phase(LEAD, healthy.but(canary_status=0)), Phase(20, healthy.but(canary_status=2))),
            (
                Check(LEAD - 1, quiet=frozenset({failed, stalled})),
                Check(LEAD + 19, firing=frozenset({failed}), quiet=frozenset({stalled})),
            ),
        ),
        Scenario(
            "a release in analysis, as long as it may take",
            (Phase(LEAD, healthy), Phase(within, healthy.but(canary_status=0))),
            (Check(LEAD + within - 1, quiet=frozenset({failed, stalled})),),
            step_minutes=5,
            evaluation_minutes=5,
        ),
        Scenario(
            "a release stuck in analysis",
            (Phase(LEAD, healthy), Phase(past, healthy.but(canary_status=0))),
            (Check(LEAD + past - 5, firing=frozenset({stalled}), quiet=frozenset({failed})),),
            step_minutes=5,
            evaluation_minutes=5,
        ),
    ]


HEALTHY_PLATFORM = "healthy platform"


def healthy_scenario(all_alerts: frozenset[AlertKey], healthy: Load) -> Scenario:
    return Scenario(
        HEALTHY_PLATFORM,
        (Phase(120, healthy),),
        (
            Check(
                119,
                firing=frozenset({("Watchdog", "none")}),
                quiet=all_alerts - {("Watchdog", "none")},
                only=frozenset({"Watchdog"}),
            ),
        ),
    )


def drill_scenarios(settings: StackSettings, healthy: Load) -> list[Scenario]:
    """The restore drill, by the stack's own period (staging weekly, prod monthly): a good drill a
    day short of the period is on time; one missed (two days past it) warns; two missed page; none
    ever warns; one that failed warns at once."""
    period = settings.database.drill_period_days
    stale = _both("RestoreDrillStale")
    warning = frozenset({("RestoreDrillStale", "warning")})
    failed = frozenset({("RestoreDrillFailed", "warning")})

    def held(
        name: str, load: Load, minutes: int, firing: frozenset[AlertKey], quiet: frozenset[AlertKey]
    ) -> Scenario:
        checks = (Check(LEAD + minutes - 1, firing=firing, quiet=quiet),)
        return Scenario(f"{name} (every {period} d)", (Phase(LEAD, healthy), Phase(minutes, load)), checks)

    return [
        held(
            "a drill a day short of its period",
            healthy.but(drill_age_days=period - 1),
            70,
            frozenset(),
            stale,
        ),
        held("one drill missed", healthy.but(drill_age_days=period + 2), 70, warning, stale - warning),
        held("two drills missed", healthy.but(drill_age_days=2 * period + 2), 70, stale, frozenset()),
        held("no drill ever passed", healthy.but(drill_age_days=None), 70, warning, stale - warning),
        held("the last drill failed", healthy.but(drill_passed=False), 15, failed, stale),
    ]


def all_scenarios(settings: StackSettings, all_alerts: frozenset[AlertKey]) -> list[Scenario]:
    healthy = HEALTHY.but(instrumented=frozenset(settings.monitoring.instrumentation.enabled))
    return [
        healthy_scenario(all_alerts, healthy),
        *availability_scenarios(healthy),
        *threshold_scenarios(settings, healthy),
        *product_scenarios(settings, healthy),
        *database_scenarios(settings, healthy),
        *drill_scenarios(settings, healthy),
        *slo_scenarios(settings, healthy),
        *release_scenarios(settings, healthy),
    ]
