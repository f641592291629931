"""The app namespace's NetworkPolicies, judged by IBM's NetworkPolicy analyzer against the needed connections.

Each stack's synthesized policies and every pod of the platform, labelled as
its maker labels it (reachability.py), go to `nca`; what it says is allowed is
compared with reachability.py's list: a needed connection it denies, or an
allowed connection that starts or ends in the app namespace and the list does
not name, fails the test.
"""

from __future__ import annotations

import copy
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from infra.conventions import (
    APP_NAMESPACE,
    CERT_MANAGER_NAMESPACE,
    FLAGGER_NAMESPACE,
    LOKI_SERVICE,
    MONITORING_NAMESPACE,
    NAME_LABEL,
    Naming,
)
from infra.ops.synth.numbers import whole_numbers
from infra.ops.synth.runner import Synthesis, synthesize
from infra.ops.synth.writer import is_kubernetes_object
from infra.render.database.restore import default_name
from infra.render.workloads import drill, rehearsal
from infra.render.workloads import reachability as r
from infra.render.workloads import upstream_pods as up
from infra.render.workloads.flagger_made import primary_deployment
from tests import nca
from tests.conftest import STACKS, stack_file_values, write_project

pytestmark = pytest.mark.tool

Synth = Callable[[str], Synthesis]
Manifest = dict[str, Any]
Span = tuple[int, int]
Needed = dict[tuple[str, str], nca.Allowed]
# A recovery cluster as the restore command names one (its name is chosen at restore time).
RESTORE = default_name(None, datetime(2026, 1, 1, tzinfo=UTC))
# A release's migration revision and a rehearsal's run, which name the rehearsal's copy and Job.
REVISION, RUN = "b2c3d4", "9f8e7d"


@dataclass
class Verdict:
    needed: int = 0
    denied: list[str] = field(default_factory=list)
    allowed: int = 0
    unneeded: list[str] = field(default_factory=list)

    def summary(self, name: str) -> str:
        return (
            f"{name}: needed {self.needed} (pod pair and port), needed denied {len(self.denied)}; "
            f"allowed pod pairs touching the app namespace or Loki {self.allowed}, "
            f"unneeded allowed {len(self.unneeded)}"
        )


def manifests(
    synthesis: Synthesis, kind: str, namespaces: tuple[str, ...] = (APP_NAMESPACE,)
) -> list[Manifest]:
    """The objects of a kind in these namespaces, as synth writes them (whole numbers as ints)."""
    return [
        whole_numbers(res.inputs)
        for res in synthesis.deployed()
        if is_kubernetes_object(res)
        and res.inputs["kind"] == kind
        and res.inputs["metadata"].get("namespace") in namespaces
    ]


def app_pods(synthesis: Synthesis) -> dict[str, Mapping[str, str]]:
    """Our pods in the app namespace by their name label, as the synthesized workloads label them, and
    the promoted API pods Flagger runs from the API's Deployment (flagger_made.py)."""
    workloads = [w for kind in ("Deployment", "StatefulSet", "Job") for w in manifests(synthesis, kind)]
    found = {
        w["spec"]["template"]["metadata"]["labels"][NAME_LABEL]: w["spec"]["template"]["metadata"]["labels"]
        for w in workloads
    }
    (api,) = (w for w in workloads if w["kind"] == "Deployment" and w["metadata"]["name"] == up.API)
    found[up.API_PRIMARY] = primary_deployment(api)["spec"]["template"]["metadata"]["labels"]
    # The migration rehearsal's Job, which the deploy job creates outside synth.
    job = rehearsal.rehearsal_job(Naming(synthesis.settings.stack), REVISION, RUN, "api@sha256:0")
    found[rehearsal.REHEARSAL] = job["spec"]["template"]["metadata"]["labels"]
    # The restore drill's check Job, which restore-drill creates outside synth.
    check = drill.check_job(Naming(synthesis.settings.stack), RUN, ["users"])
    found[drill.DRILL] = check["spec"]["template"]["metadata"]["labels"]
    return found


def stack_of(synthesis: Synthesis) -> r.Stack:
    settings = synthesis.settings
    return r.Stack(
        domain=settings.identity.domain,
        database_instances=settings.database.instances,
        restore_cluster=settings.restore.into if settings.restore else RESTORE,
        rehearsal_copy=rehearsal.copy_name(REVISION, RUN),
        drill_copy=drill.copy_name(RUN),
        serving_restore=settings.cut_over is not None,
    )


def pods_of(platform: r.Platform) -> dict[str, list[nca.Pod]]:
    found = {
        w.name: [nca.Pod(w.namespace, name, labels) for name, labels in w.pods] for w in platform.workloads
    }
    keys = [f"{p.namespace}/{p.name}" for group in found.values() for p in group]
    assert len(keys) == len(set(keys)), "two pods share a name"
    return found


def needed_pairs(platform: r.Platform) -> Needed:
    """(client pod, server pod or external's name) -> the protocols and ports the list names."""
    pods = pods_of(platform)
    externals = {e.name for e in platform.externals}
    needed: Needed = defaultdict(dict)
    for c in platform.connections:
        assert c.client in pods, f"{c}: no workload {c.client!r}"
        assert c.server in pods or c.server in externals, f"{c}: nothing named {c.server!r}"
        servers = [f"{p.namespace}/{p.name}" for p in pods.get(c.server, [])] or [c.server]
        for client in (f"{p.namespace}/{p.name}" for p in pods[c.client]):
            for server in (s for s in servers if s != client):
                ports = needed[client, server]
                for protocol in (nca.PROTOCOLS[name] for name in c.protocols):
                    ports[protocol] = nca.merge([*ports.get(protocol, []), *((p, p) for p in c.ports)])
    return needed


def covers(ranges: Iterable[Span], first: int, last: int) -> bool:
    for low, high in nca.merge(ranges):
        if low <= first <= high:
            first = high + 1
    return first > last


Lines = list[tuple[str, str, nca.Allowed]]


def is_denied(
    lines: Lines, client: str, server: str, protocol: int, port: int, *, block: Span | None
) -> bool:
    """Whether nca allows no such connection (to an address block: not to every address in it)."""

    def lets(through: nca.Allowed) -> bool:
        return any(low <= port <= high for low, high in through.get(protocol, []))

    if block is None:
        return not any(src == client and dst == server and lets(t) for src, dst, t in lines)
    spans = [span for src, dst, t in lines if src == client and (span := nca.addresses(dst)) and lets(t)]
    return not covers(spans, *block)


def named_for(needed: Needed, blocks: dict[str, Span | None], src: str, dst: str) -> nca.Allowed:
    """What the list names from `src` to `dst`: a pod, or an address range inside named blocks."""
    span = nca.addresses(dst)
    if span is None:
        return needed.get((src, dst), {})
    named: nca.Allowed = {}
    for name, block in blocks.items():
        if block and block[0] <= span[0] and span[1] <= block[1]:
            for protocol, intervals in needed.get((src, name), {}).items():
                named[protocol] = nca.merge([*named.get(protocol, []), *intervals])
    return named


def judge(platform: r.Platform, output: list[str]) -> Verdict:
    needed = needed_pairs(platform)
    blocks = {e.name: nca.addresses(e.cidr) for e in platform.externals}
    lines = [nca.parse_line(line) for line in output]
    verdict = Verdict()
    for (client, server), ports in needed.items():
        for protocol, intervals in ports.items():
            for port in (p for low, high in intervals for p in range(low, high + 1)):
                verdict.needed += 1
                if is_denied(lines, client, server, protocol, port, block=blocks.get(server)):
                    verdict.denied.append(f"{client} -> {server} {protocol}/{port}")
    # The app namespace's pods, and Loki's (the one policed workload of the monitoring namespace).
    here = (f"{APP_NAMESPACE}/", f"{MONITORING_NAMESPACE}/{up.LOKI}-")
    for src, dst, through in lines:
        if src.startswith(here) or dst.startswith(here):
            verdict.allowed += 1
            extra = nca.subtract(through, named_for(needed, blocks, src, dst))
            if extra:
                verdict.unneeded.append(f"{src} -> {dst} {extra}")
    return verdict


def policies_of(synthesis: Synthesis) -> list[Manifest]:
    """The app namespace's policies, the one that keeps Flagger's loadtester to its smoke check, the
    monitoring namespace's (Loki's and the log collector's), and those a migration rehearsal and a
    restore drill create while they run."""
    naming = Naming(synthesis.settings.stack)
    running = [*rehearsal.rehearsal_policies(naming, RUN), *drill.drill_policies(naming, RUN)]
    namespaces = (APP_NAMESPACE, FLAGGER_NAMESPACE, MONITORING_NAMESPACE)
    return [*manifests(synthesis, "NetworkPolicy", namespaces), *running]


def analyze(synthesis: Synthesis, policies: list[Manifest], workdir: Path) -> Verdict:
    platform = r.platform(stack_of(synthesis), app_pods(synthesis))
    pods = [pod for group in pods_of(platform).values() for pod in group]
    return judge(platform, nca.connectivity(workdir, policies, pods))


@pytest.mark.parametrize("stack", STACKS)
def test_the_policies_allow_every_needed_connection_and_nothing_else(
    synthesized: Synth, stack: str, tmp_path: Path
) -> None:
    synthesis = synthesized(stack)
    started = time.perf_counter()
    verdict = analyze(synthesis, policies_of(synthesis), tmp_path)
    print(f"{verdict.summary(stack)} ({time.perf_counter() - started:.1f} s)")
    assert verdict.needed > 40
    assert verdict.denied == []
    assert verdict.unneeded == []


@pytest.mark.parametrize("stack", STACKS)
def test_after_a_cut_over_the_app_reaches_the_restored_cluster_alone(stack: str, tmp_path: Path) -> None:
    """Cut over: the app's pods reach the restored cluster's pooler, which reaches its instances; the
    running cluster's pooler no longer admits them (the model lists no such connection)."""
    config = {**stack_file_values(stack), "restore": {"into": RESTORE}, "cut_over": {"to": RESTORE}}
    synthesis = synthesize(stack, write_project(tmp_path / "project", stack, config))
    verdict = analyze(synthesis, policies_of(synthesis), tmp_path)
    print(verdict.summary(f"{stack} cut over to {RESTORE}"))
    needed = needed_pairs(r.platform(stack_of(synthesis), app_pods(synthesis)))
    restored_pooler = f"{APP_NAMESPACE}/{RESTORE}-pooler-rw-0"
    assert (f"{APP_NAMESPACE}/{up.WORKER}-0", restored_pooler) in needed
    assert (f"{APP_NAMESPACE}/{up.WORKER}-0", f"{APP_NAMESPACE}/{up.POOLER}-0") not in needed
    assert verdict.denied == []
    assert verdict.unneeded == []


def test_dropping_the_database_jobs_way_to_the_api_is_caught(synthesized: Synth, tmp_path: Path) -> None:
    """CloudNativePG's initdb job reads its Cluster before it runs: without that rule, no database."""
    synthesis = synthesized("prod")
    policies = [p for p in policies_of(synthesis) if p["metadata"]["name"] != "database"]
    verdict = analyze(synthesis, policies, tmp_path)
    print(verdict.summary("prod without the 'database' policy"))
    initdb = f"{APP_NAMESPACE}/samokoder-db-1-initdb-x -> {r.KUBE_API} 6/443"
    assert initdb in verdict.denied
    assert verdict.unneeded == []


def test_letting_in_the_whole_monitoring_namespace_is_caught(synthesized: Synth, tmp_path: Path) -> None:
    """The API admits Prometheus, not every pod beside it (Alertmanager has no business there)."""
    synthesis = synthesized("prod")
    policies = copy.deepcopy(policies_of(synthesis))
    (api,) = (p for p in policies if p["metadata"]["name"] == "api")
    for rule in api["spec"]["ingress"]:
        for peer in rule["from"]:
            if (
                peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                == MONITORING_NAMESPACE
            ):
                del peer["podSelector"]
    verdict = analyze(synthesis, policies, tmp_path)
    print(verdict.summary("prod with the API open to the monitoring namespace"))
    assert verdict.denied == []
    assert any(
        u.startswith(f"{MONITORING_NAMESPACE}/{up.ALERTMANAGER}-0 -> {APP_NAMESPACE}/")
        for u in verdict.unneeded
    ), verdict.unneeded


def test_dropping_the_smoke_checks_way_to_the_release_is_caught(synthesized: Synth, tmp_path: Path) -> None:
    """Flagger's pre-rollout webhook: its loadtester asks the release's pods, and only them."""
    synthesis = synthesized("staging")
    policies = [p for p in policies_of(synthesis) if p["metadata"]["name"] != "api-smoke"]
    verdict = analyze(synthesis, policies, tmp_path)
    print(verdict.summary("staging without the 'api-smoke' policy"))
    smoke = f"{FLAGGER_NAMESPACE}/{up.LOADTESTER}-0 -> {APP_NAMESPACE}/{up.API}-0 6/8000"
    assert verdict.denied == [smoke]
    assert verdict.unneeded == []


def test_opening_loki_to_every_pod_and_cutting_its_alerts_is_caught(
    synthesized: Synth, tmp_path: Path
) -> None:
    """Loki admits the collector's pods, not every pod of the cluster; its ruler needs Alertmanager."""
    synthesis = synthesized("staging")
    policies = copy.deepcopy(policies_of(synthesis))
    (loki,) = (p for p in policies if p["metadata"]["name"] == "loki")
    for peer in loki["spec"]["ingress"][0]["from"]:
        if peer.get("namespaceSelector") == {}:
            del peer["podSelector"]
    loki["spec"]["egress"] = [
        r for r in loki["spec"]["egress"] if r["ports"][0]["port"] != up.ALERTMANAGER_PORT
    ]
    verdict = analyze(synthesis, policies, tmp_path)
    print(verdict.summary("staging with Loki open to every pod and cut from Alertmanager"))
    loki_pod = f"{MONITORING_NAMESPACE}/{up.LOKI}-0"
    assert verdict.denied == [
        f"{loki_pod} -> {MONITORING_NAMESPACE}/{up.ALERTMANAGER}-0 6/{up.ALERTMANAGER_PORT}"
    ]
    # The app namespace's own policies still keep its pods away; cert-manager, say, now gets in.
    cert_manager = f"{CERT_MANAGER_NAMESPACE}/{up.CERT_MANAGER}-0 -> {loki_pod} "
    assert any(u.startswith(cert_manager) for u in verdict.unneeded), verdict.unneeded


def test_dropping_the_collectors_way_to_loki_is_caught(synthesized: Synth, tmp_path: Path) -> None:
    """The log collector's policy lets it push to Loki; without that rule, no logs."""
    synthesis = synthesized("staging")
    policies = copy.deepcopy(policies_of(synthesis))
    (collector,) = (p for p in policies if p["metadata"]["name"] == up.LOG_COLLECTOR)
    collector["spec"]["egress"] = [
        rule for rule in collector["spec"]["egress"] if rule["ports"][0]["port"] != LOKI_SERVICE[1]
    ]
    verdict = analyze(synthesis, policies, tmp_path)
    print(verdict.summary("staging without the collector's way to Loki"))
    pods = (f"{MONITORING_NAMESPACE}/{name}-0" for name in (up.LOG_COLLECTOR, up.LOKI))
    push = " -> ".join(pods) + f" 6/{LOKI_SERVICE[1]}"
    assert verdict.denied == [push]
    assert verdict.unneeded == []


def test_one_copy_label_for_both_kinds_of_copy_is_caught(
    synthesized: Synth, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A drill's copy and a rehearsal's carried one label: with both running, each Job reached the
    other's copy. Labelled so again, the analyzer finds both ways allowed and not needed."""
    monkeypatch.setattr(drill, "COPY", rehearsal.COPY)
    synthesis = synthesized("staging")
    verdict = analyze(synthesis, policies_of(synthesis), tmp_path)
    print(verdict.summary("staging with one copy label for both kinds"))
    assert verdict.denied == []
    rehearsal_copy = f"{APP_NAMESPACE}/{rehearsal.copy_name(REVISION, RUN)}-1"
    drill_copy = f"{APP_NAMESPACE}/{drill.copy_name(RUN)}-1"
    crossed = {
        f"{APP_NAMESPACE}/{drill.DRILL}-0 -> {rehearsal_copy} ",
        f"{APP_NAMESPACE}/{rehearsal.REHEARSAL}-0 -> {drill_copy} ",
    }
    assert {c for c in crossed if any(u.startswith(c) for u in verdict.unneeded)} == crossed, verdict.unneeded
