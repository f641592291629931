"""What both stacks deploy meets the app contract: each process's pod runs its command, on its port,
with its health path, can write where it writes, and gets every variable it requires.

A pod's environment is the union of what its container is given: the keys of
each ConfigMap it reads whole (envFrom configMapRef), the keys of each Secret
it reads whole (envFrom secretRef), which External Secrets fills from the
ExternalSecret's ``data[].secretKey`` and its template's keys (merged), and
its own ``env`` names. Read from the synthesized objects of both stacks.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import Any

import pytest

from infra import app_contract as app
from infra.conventions import HTTP_PORT_NAME, MIGRATION, workload_name
from infra.ops.synth.runner import Synthesis
from infra.ops.synth.writer import is_kubernetes_object
from tests.conftest import STACKS

Synth = Callable[[str], Synthesis]
Manifest = dict[str, Any]
# The processes that run in a pod of ours, and that pod's main container.
CONTAINER = {"api": "api", "worker": "worker", "frontend": "frontend", "migrations": "migrate"}
WITH_A_POD = [p for p in app.PROCESSES if p.name in CONTAINER]
# The image's working directory, against which the contract's relative paths resolve.
WORKDIR = "/app"


def objects(synthesis: Synthesis) -> list[Manifest]:
    return [r.inputs for r in synthesis.deployed() if is_kubernetes_object(r)]


def pod_of(synthesis: Synthesis, process: app.Process) -> tuple[Manifest, Manifest]:
    """The pod spec that runs `process`, and its main container."""
    if process.name == "migrations":
        (workload,) = (o for o in objects(synthesis) if o["kind"] == "Job")
        assert workload["metadata"]["name"].startswith(f"{MIGRATION}-")
    else:
        (workload,) = (
            o
            for o in objects(synthesis)
            if o["kind"] == "Deployment" and o["metadata"]["name"] == workload_name(process.name)
        )
    spec: Manifest = workload["spec"]["template"]["spec"]
    (container,) = (c for c in spec["containers"] if c["name"] == CONTAINER[process.name])
    return spec, container


def one(synthesis: Synthesis, kind: str, name: str, namespace: str) -> Manifest:
    (found,) = (
        o
        for o in objects(synthesis)
        if o["kind"] == kind and o["metadata"]["name"] == name and o["metadata"]["namespace"] == namespace
    )
    return found


def secret_keys(synthesis: Synthesis, name: str, namespace: str) -> set[str]:
    """The keys External Secrets writes into Secret `name`."""
    (external,) = (
        o
        for o in objects(synthesis)
        if o["kind"] == "ExternalSecret"
        and o["metadata"]["namespace"] == namespace
        and o["spec"]["target"]["name"] == name
    )
    spec = external["spec"]
    mapped = {item["secretKey"] for item in spec.get("data", [])}
    template = spec["target"].get("template")
    if template is None:
        return mapped
    templated = set(template.get("data", {}))
    # Without Merge, a template replaces the mapped keys instead of adding to them.
    return mapped | templated if template.get("mergePolicy") == "Merge" else templated


def environment(synthesis: Synthesis, process: app.Process) -> dict[str, set[str]]:
    """Where the process's variables come from: the ConfigMap's, the Secret's and the container's own."""
    _, container = pod_of(synthesis, process)
    namespace = next(o for o in objects(synthesis) if o["kind"] == "Deployment")["metadata"]["namespace"]
    found: dict[str, set[str]] = {"config": set(), "secret": set(), "env": set()}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            found["config"] |= set(
                one(synthesis, "ConfigMap", source["configMapRef"]["name"], namespace)["data"]
            )
        if "secretRef" in source:
            found["secret"] |= secret_keys(synthesis, source["secretRef"]["name"], namespace)
    found["env"] = {item["name"] for item in container.get("env", [])}
    return found


@pytest.mark.parametrize("process", WITH_A_POD, ids=lambda p: p.name)
@pytest.mark.parametrize("variant", STACKS)
def test_every_required_variable_reaches_the_processs_pod(
    synthesized: Synth, variant: str, process: app.Process
) -> None:
    sources = environment(synthesized(variant), process)
    available = set().union(*sources.values())
    required = set(process.required_env())
    print(
        f"{variant} {process.name}: {len(required)} required, {len(available)} available"
        f" (config map {len(sources['config'])}, secret {len(sources['secret'])}, env {len(sources['env'])});"
        f" missing {sorted(required - available)}"
    )
    assert required <= available, f"{process.name} misses {sorted(required - available)}"


@pytest.mark.parametrize("variant", STACKS)
def test_the_app_reads_a_required_variable_from_one_place_only(synthesized: Synth, variant: str) -> None:
    # The same key in the ConfigMap and the Secret: envFrom's later source silently wins.
    for process in WITH_A_POD:
        sources = environment(synthesized(variant), process)
        for variable in process.required_env():
            places = [where for where, names in sources.items() if variable in names]
            assert len(places) == 1, (process.name, variable, places)


@pytest.mark.parametrize(("variant", "environment_"), [("prod", "production"), ("staging", "staging")])
def test_prod_runs_the_app_in_production(synthesized: Synth, variant: str, environment_: str) -> None:
    synthesis = synthesized(variant)
    (config,) = (
        o for o in objects(synthesis) if o["kind"] == "ConfigMap" and app.ENVIRONMENT.name in o["data"]
    )
    assert config["data"][app.ENVIRONMENT.name] == environment_


@pytest.mark.parametrize("process", WITH_A_POD, ids=lambda p: p.name)
@pytest.mark.parametrize("stack", STACKS)
def test_each_pod_runs_the_contracts_command(synthesized: Synth, stack: str, process: app.Process) -> None:
    _, container = pod_of(synthesized(stack), process)
    if process.command:
        assert container["command"] == list(process.command)
        assert "args" not in container
    else:
        # The image's own entry point (the frontend's nginx): no override at all.
        assert "command" not in container
        assert "args" not in container


@pytest.mark.parametrize("process", WITH_A_POD, ids=lambda p: p.name)
@pytest.mark.parametrize("stack", STACKS)
def test_each_pod_listens_on_the_contracts_port_and_is_checked_at_its_health_path(
    synthesized: Synth, stack: str, process: app.Process
) -> None:
    _, container = pod_of(synthesized(stack), process)
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    assert ports == ({HTTP_PORT_NAME: process.port} if process.port else {})
    probes = [container[k] for k in ("readinessProbe", "livenessProbe") if k in container]
    if process.health_path is None:
        assert not [p for p in probes if "httpGet" in p]
    else:
        assert len(probes) == 2
        for probe in probes:
            assert probe["httpGet"] == {"path": process.health_path, "port": HTTP_PORT_NAME}


@pytest.mark.parametrize("stack", STACKS)
def test_the_worker_is_checked_by_arq_against_the_settings_class_it_runs(
    synthesized: Synth, stack: str
) -> None:
    _, container = pod_of(synthesized(stack), app.WORKER)
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["exec"]["command"] == list(app.WORKER_CHECK)
    assert app.WORKER_CHECK[-1] == app.WORKER.command[-1] == app.WORKER_SETTINGS


@pytest.mark.parametrize("process", WITH_A_POD, ids=lambda p: p.name)
@pytest.mark.parametrize("stack", STACKS)
def test_each_pod_can_write_exactly_where_the_process_writes(
    synthesized: Synth, stack: str, process: app.Process
) -> None:
    spec, container = pod_of(synthesized(stack), process)
    # Everything else is read-only.
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = {m["mountPath"]: volumes[m["name"]] for m in container.get("volumeMounts", [])}
    assert set(mounts) == {posixpath.join(WORKDIR, path) for path in process.writable_paths}
    for path, volume in mounts.items():
        assert "sizeLimit" in volume["emptyDir"], path


@pytest.mark.parametrize("process", WITH_A_POD, ids=lambda p: p.name)
@pytest.mark.parametrize("stack", STACKS)
def test_no_service_link_overrides_a_variable_the_app_reads(
    synthesized: Synth, stack: str, process: app.Process
) -> None:
    spec, _ = pod_of(synthesized(stack), process)
    # Service links add <SERVICE>_PORT=tcp://... for every Service: samokoder-redis gives REDIS_PORT.
    read = {variable.name for variable in process.env}
    if any(name.endswith(("_PORT", "_HOST")) for name in read):
        assert spec.get("enableServiceLinks") is False
