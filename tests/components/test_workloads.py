"""Workloads under mocks: every container locked down, images by digest, a release changes images only."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.ops.synth.mocks import RecordedResource
from infra.ops.synth.runner import Synthesis, synthesize
from infra.ops.synth.writer import write_synthesis
from infra.render.workloads.routes import API_PATH
from tests.conftest import STACKS, stack_file_values, with_changes, write_project

Synth = Callable[[str], Synthesis]
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
JOB = "kubernetes:batch/v1:Job"
RELEASE = "kubernetes:helm.sh/v3:Release"
DIGEST_REF = r"cr\.yandex/[a-z0-9]+/(api|worker|frontend)@sha256:[0-9a-f]{64}"


def pod_specs(synthesis: Synthesis) -> Iterator[tuple[str, dict[str, Any]]]:
    for resource in (*synthesis.of_type(DEPLOYMENT), *synthesis.of_type(JOB)):
        yield resource.name, resource.inputs["spec"]["template"]["spec"]


def containers(synthesis: Synthesis) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(where, container, pod security context) for every container we define, init containers included."""
    for name, pod in pod_specs(synthesis):
        for container in (*pod.get("initContainers", []), *pod["containers"]):
            yield f"{name}/{container['name']}", container, pod.get("securityContext", {})

    # Charts whose security context we set: as the chart takes it, or switched on around a context
    # (Flagger's charts: securityContext.enabled and .context, charts/*/values.yaml at v1.44.0).
    def context(value: dict[str, Any]) -> dict[str, Any]:
        return dict(value["context"]) if value.get("enabled") is True else value

    for release in synthesis.of_type(RELEASE):
        values = release.inputs["values"]
        if "securityContext" in values and (
            "podSecurityContext" in values or "context" in values["securityContext"]
        ):
            yield (
                f"{release.inputs['chart']} (values)",
                {"securityContext": context(values["securityContext"])},
                context(values.get("podSecurityContext", {})),
            )


@pytest.mark.parametrize("stack", STACKS)
def test_every_container_runs_locked_down(synthesized: Synth, stack: str) -> None:
    seen = []
    for where, container, pod in containers(synthesized(stack)):
        seen.append(where)
        security = container["securityContext"]
        assert security.get("runAsNonRoot") or pod.get("runAsNonRoot"), where
        assert security["readOnlyRootFilesystem"] is True, where
        assert security["allowPrivilegeEscalation"] is False, where
        assert security["capabilities"] == {"drop": ["ALL"]}, where
        seccomp = security.get("seccompProfile") or pod.get("seccompProfile")
        assert seccomp == {"type": "RuntimeDefault"}, where
    assert {
        "workloads-api-deployment/api",
        "workloads-worker-deployment/worker",
        "workloads-frontend-deployment/frontend",
        "workloads-migrate-4f2a9c1d7e3b/migrate",
        "workloads-migrate-4f2a9c1d7e3b/wait-for-backup",
        "prometheus-redis-exporter (values)",
        "prometheus-blackbox-exporter (values)",
        "flagger (values)",
        "loadtester (values)",
    } <= set(seen)


@pytest.mark.parametrize("stack", STACKS)
def test_app_containers_have_digests_probes_limits_and_only_explicit_writable_paths(
    synthesized: Synth, stack: str
) -> None:
    for name, pod in pod_specs(synthesized(stack)):
        volumes = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v}
        for container in pod["containers"]:
            where = f"{name}/{container['name']}"
            assert re.fullmatch(DIGEST_REF, container["image"]), where
            limits = container["resources"]["limits"]
            assert set(limits) == {"cpu", "memory"}, where
            assert {m["name"] for m in container.get("volumeMounts", [])} <= volumes, where
            if name.endswith("-deployment"):
                assert {"readinessProbe", "livenessProbe"} <= set(container), where
    api = next(pod for name, pod in pod_specs(synthesized(stack)) if name == "workloads-api-deployment")
    assert api["containers"][0]["readinessProbe"]["httpGet"]["path"] == "/health"


@pytest.mark.parametrize(("stack", "minimum"), [("prod", 2), ("staging", 1)])
def test_replicas_follow_the_profile_and_spread_over_zones(
    synthesized: Synth, stack: str, minimum: int
) -> None:
    deployments = {d.name: d.inputs["spec"] for d in synthesized(stack).of_type(DEPLOYMENT)}
    assert deployments["workloads-frontend-deployment"]["replicas"] >= minimum
    # The API's count is its autoscaler's: the Deployment leaves it alone.
    assert "replicas" not in deployments["workloads-api-deployment"]
    (scaler,) = synthesized(stack).of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    assert scaler.inputs["spec"]["minReplicas"] >= minimum
    for spec in deployments.values():
        (spread,) = spec["template"]["spec"]["topologySpreadConstraints"]
        assert spread["topologyKey"] == "topology.kubernetes.io/zone"
        assert spread["whenUnsatisfiable"] == ("DoNotSchedule" if stack == "prod" else "ScheduleAnyway")


@pytest.mark.parametrize("stack", STACKS)
def test_deployments_roll_only_after_the_migration_which_waits_for_its_backup(
    synthesized: Synth, stack: str
) -> None:
    synthesis = synthesized(stack)
    (job,) = synthesis.of_type(JOB)
    (backup,) = synthesis.of_type("kubernetes:postgresql.cnpg.io/v1:Backup")
    assert backup.urn in job.dependencies
    assert backup.inputs["spec"]["method"] == "plugin"
    (wait,) = job.inputs["spec"]["template"]["spec"]["initContainers"]
    assert wait["command"][:2] == ["python", "-c"]
    assert {"name": "BACKUP_NAME", "value": backup.inputs["metadata"]["name"]} in wait["env"]
    # What the Job runs is the contract's (tests/infra/test_app_contract.py).
    for deployment in synthesis.of_type(DEPLOYMENT):
        assert job.urn in deployment.dependencies, deployment.name


@pytest.mark.parametrize("stack", STACKS)
def test_secrets_reach_pods_only_from_the_external_secrets_target(synthesized: Synth, stack: str) -> None:
    for name, pod in pod_specs(synthesized(stack)):
        for container in pod["containers"]:
            assert "env" not in container, name  # no literal values at all
            for source in container.get("envFrom", []):
                assert source in (
                    {"configMapRef": {"name": "samokoder-config"}},
                    {"secretRef": {"name": "samokoder-app-secrets"}},
                )


@pytest.mark.parametrize("stack", STACKS)
def test_the_namespace_denies_by_default_and_allows_each_workload_its_paths(
    synthesized: Synth, stack: str
) -> None:
    policies = {
        p.inputs["metadata"]["name"]: p.inputs["spec"]
        for p in synthesized(stack).of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    }
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    api = policies["api"]
    assert {p["port"] for r in api["ingress"] for p in r["ports"]} == {8000}
    # The pooler, Redis in the cluster (its plain port) and HTTPS out.
    assert {p["port"] for r in api["egress"] for p in r["ports"]} == {5432, 6379, 443}
    assert "ingress" not in policies["worker"]  # nothing calls the worker
    assert {
        "api",
        "worker",
        "frontend",
        "database-pooler",
        "database-instances",
        "migrate",
        "redis",
    } <= set(policies)


@pytest.mark.parametrize("stack", STACKS)
def test_the_ingresses_send_api_to_the_api_and_the_rest_to_the_frontend_over_tls(
    synthesized: Synth, stack: str
) -> None:
    ingresses = synthesized(stack).of_type("kubernetes:networking.k8s.io/v1:Ingress")
    domain = stack_file_values(stack)["identity"]["domain"]
    routes: dict[str, str] = {}
    for ingress in ingresses:
        spec = ingress.inputs["spec"]
        assert spec["tls"] == [{"hosts": [domain], "secretName": "samokoder-tls"}]  # pragma: allowlist secret
        ((rule,),) = [spec["rules"]]
        assert rule["host"] == domain
        routes |= {p["path"]: p["backend"]["service"]["name"] for p in rule["http"]["paths"]}
    # How browser paths resolve over these: tests/infra/render/workloads/test_routes.py.
    assert routes == {API_PATH: "samokoder-api", "/": "samokoder-frontend"}


def test_charts_of_the_cluster_are_pinned_to_exact_versions(synthesized: Synth) -> None:
    releases = synthesized("prod").of_type(RELEASE)
    charts = {r.inputs["chart"]: r.inputs["version"] for r in releases}
    assert set(charts) == {
        "kube-prometheus-stack",
        "cert-manager",
        "cloudnative-pg",
        "plugin-barman-cloud",
        "external-secrets",
        "ingress-nginx",
        "prometheus-redis-exporter",
        "prometheus-blackbox-exporter",
        "prometheus-pushgateway",
        "flagger",
        "loadtester",
        "loki",
        "alloy",
    }
    assert all(re.fullmatch(r"v?[0-9]+\.[0-9]+\.[0-9]+", v) for v in charts.values()), charts


# --- a release changes the images and nothing else ------------------------------------


def _release_b(stack: str) -> dict[str, Any]:
    digests = {
        "api": "sha256:" + "a1" * 32,
        "worker": "sha256:" + "b2" * 32,
        "frontend": "sha256:" + "c3" * 32,
    }
    return with_changes(stack_file_values(stack), {"release.id": "2026.12.01-1", "release.images": digests})


def _changes(old: Any, new: Any, path: str = "") -> Iterator[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            yield from _changes(old.get(key), new.get(key), f"{path}.{key}" if path else key)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            yield from _changes(a, b, f"{path}[{i}]")
    elif old != new:
        yield path


def changed_fields(a: dict[str, RecordedResource], b: dict[str, RecordedResource]) -> dict[str, list[str]]:
    """Per resource, the input paths that differ and that an update would apply (not ignored)."""
    assert set(a) == set(b), "a release added or removed resources"
    changed = {}
    for urn, before in a.items():
        paths = [
            p for p in _changes(before.inputs, b[urn].inputs) if p.split(".")[0] not in before.ignore_changes
        ]
        if paths:
            changed[urn] = paths
    return changed


@pytest.mark.parametrize("stack", STACKS)
def test_a_new_release_changes_only_the_deployments_images(tmp_path: Path, stack: str) -> None:
    a = synthesize(stack, write_project(tmp_path / "a", stack, stack_file_values(stack)))
    b = synthesize(stack, write_project(tmp_path / "b", stack, _release_b(stack)))
    changed = changed_fields({r.urn: r for r in a.resources}, {r.urn: r for r in b.resources})
    expected_path = "spec.template.spec.containers[0].image"
    assert {urn.rsplit("::", 1)[1]: paths for urn, paths in changed.items()} == {
        f"workloads-{service}-deployment": [expected_path] for service in ("api", "worker", "frontend")
    }
    # The written resources.json files tell the same: write both and compare.
    write_synthesis(a, tmp_path / "out-a")
    write_synthesis(b, tmp_path / "out-b")
    old = {r["urn"]: r for r in json.loads((tmp_path / "out-a" / "resources.json").read_text())}
    new = {r["urn"]: r for r in json.loads((tmp_path / "out-b" / "resources.json").read_text())}
    differing = {
        # A frozen object (a migration's Job and Backup: ignore_changes spec) is history, not a change;
        # the API Deployment ignores only Flagger's replicas.
        urn
        for urn in old
        if old[urn]["inputs"] != new[urn]["inputs"] and "spec" not in old[urn]["ignore_changes"]
    }
    assert len(differing) == 3


# --- Pulumi and Flagger do not fight ----------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_pulumi_leaves_flaggers_objects_and_fields_to_flagger(synthesized: Synth, stack: str) -> None:
    """No Service of Flagger's names, the target's replicas never written; the Canary ahead of a new image."""
    synthesis = synthesized(stack)
    services = {s.inputs["metadata"]["name"] for s in synthesis.of_type("kubernetes:core/v1:Service")}
    assert not services & {"samokoder-api", "samokoder-api-primary", "samokoder-api-canary"}
    deployments = {d.name: d for d in synthesis.of_type(DEPLOYMENT)}
    api = deployments["workloads-api-deployment"]
    assert "replicas" not in api.inputs["spec"]
    assert api.ignore_changes == ("spec.replicas",)
    assert all(not d.ignore_changes for name, d in deployments.items() if d is not api), (
        "only Flagger's target"
    )
    (canary,) = synthesis.of_type("kubernetes:flagger.app/v1beta1:Canary")
    # A rollback's skipAnalysis (and the next release's return to analysis) reaches Flagger first.
    assert canary.urn in api.dependencies
    releases = {r.inputs["chart"]: r.urn for r in synthesis.of_type(RELEASE)}
    assert {releases["flagger"], releases["loadtester"]} <= set(canary.dependencies)
    templates = synthesis.of_type("kubernetes:flagger.app/v1beta1:MetricTemplate")
    assert {t.urn for t in templates} <= set(canary.dependencies)
    # Flagger initialises the Canary from the API's autoscaler and Ingress: they come first.
    (scaler,) = synthesis.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    api_ingress = next(
        i
        for i in synthesis.of_type("kubernetes:networking.k8s.io/v1:Ingress")
        if i.name == "workloads-api-ingress"
    )
    assert {scaler.urn, api_ingress.urn} <= set(canary.dependencies)
