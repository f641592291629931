"""Awaits as data: in both stacks, nothing Pulumi waits for may need longer to be ready than Pulumi waits.

pulumi-kubernetes (4.34.2; provider/pkg/await is the same at v4.32.0 and at the
newest commit of the snapshot read, so the lines below are v4.32.0's) waits
after it creates or updates a built-in kind until the object is ready
(awaiters.go:183-243), ten minutes unless the object's
``pulumi.com/timeoutSeconds`` says otherwise (await.go:306-309 and 491-494,
metadata/overrides.go:53-63); ``pulumi.com/skipAwait: "true"`` waits not at
all (overrides.go:108-110). A custom resource is not waited for
(overrides.go:112-117: no ``waitFor``, no PULUMI_K8S_AWAIT_ALL), so its time
is spent by whatever waits for it in turn. What an object's readiness waits on:

- a Job: its pod's completion (checker/job/check.go:50-67), which Kubernetes ends as
  failed at ``activeDeadlineSeconds`` (check.go:95-97: DeadlineExceeded);
- a Deployment, StatefulSet or DaemonSet: its pods' readiness, which waits for
  their init containers;
- a Service with a selector: that no selected pod is unready. Endpoints with no
  pod at all are ready (service.go:411-416 needs ``!endpointsPending``, not a
  ready address), so a Service created before its pods exist is ready at once;
  pods that do exist and wait in an init container keep it waiting that long.

An init container waits as long as the ``TIMEOUT_SECONDS`` it is given
(infra/render/workloads/wait_for_backup.py reads it); one that declares none
may wait forever. The walk below finds every awaited object's longest wait and
fails where that exceeds the object's own timeout.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from infra.ops.synth.runner import Synthesis
from infra.ops.synth.writer import is_kubernetes_object
from tests.conftest import STACKS

Synth = Callable[[str], Synthesis]
Manifest = dict[str, Any]
# awaiters.go:183-243: the kinds with a built-in await (Namespace, ConfigMap, RBAC and the
# autoscaler have none).
AWAITED = {
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "DaemonSet"),
    ("batch/v1", "Job"),
    ("v1", "Pod"),
    ("v1", "Service"),
    ("v1", "PersistentVolume"),
    ("v1", "PersistentVolumeClaim"),
    ("v1", "ReplicationController"),
    ("v1", "ResourceQuota"),
    ("v1", "Secret"),
    ("v1", "ServiceAccount"),
    ("networking.k8s.io/v1", "Ingress"),
}
# await.go:306 (and DefaultServiceTimeoutMins, DefaultDeploymentTimeoutMins, DefaultJobTimeoutMins).
DEFAULT_TIMEOUT_SECONDS = 600
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}


def _annotations(manifest: Manifest) -> dict[str, str]:
    found: dict[str, str] = manifest["metadata"].get("annotations") or {}
    return found


def timeout(manifest: Manifest) -> float | None:
    """How long Pulumi waits for the object: None for not at all."""
    if (manifest["apiVersion"], manifest["kind"]) not in AWAITED:
        return None
    annotations = _annotations(manifest)
    if annotations.get("pulumi.com/skipAwait") == "true":
        return None
    return float(annotations.get("pulumi.com/timeoutSeconds", DEFAULT_TIMEOUT_SECONDS))


def _declared(container: Manifest) -> float:
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    return float(env["TIMEOUT_SECONDS"]) if env.get("TIMEOUT_SECONDS") else math.inf


def pods_wait(pod_spec: Manifest) -> float:
    """How long a pod may stay unready before its containers start: its init containers, one after another."""
    return sum((_declared(c) for c in pod_spec.get("initContainers", [])), 0.0)


def _template(workload: Manifest) -> Manifest:
    template: Manifest = workload["spec"]["template"]
    return template


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def _selected_pods_wait(service: Manifest, objects: Iterable[Manifest]) -> float:
    spec = service["spec"]
    selector = spec.get("selector") or {}
    if not selector or spec.get("clusterIP") == "None" or spec.get("type") == "ExternalName":
        return 0.0  # service.go:402-409: these wait for no pod
    namespace = service["metadata"].get("namespace")
    return max(
        (
            pods_wait(_template(o)["spec"])
            for o in objects
            if o["kind"] in WORKLOADS
            and o["metadata"].get("namespace") == namespace
            and _selects(selector, _template(o)["metadata"].get("labels", {}))
        ),
        default=0.0,
    )


def readiness(manifest: Manifest, objects: Iterable[Manifest]) -> float:
    """The longest the object's ready condition may stay unmet after Pulumi starts waiting."""
    kind = manifest["kind"]
    if kind == "Job":
        return float(manifest["spec"].get("activeDeadlineSeconds") or math.inf)
    if kind in WORKLOADS:
        return pods_wait(_template(manifest)["spec"])
    if kind == "Pod":
        return pods_wait(manifest["spec"])
    if kind == "Service":
        return _selected_pods_wait(manifest, objects)
    return 0.0


def overdue(objects: list[Manifest]) -> list[str]:
    """Every awaited object whose readiness may take longer than Pulumi waits for it."""
    found = []
    for manifest in objects:
        waits = timeout(manifest)
        needs = readiness(manifest, objects)
        if waits is not None and needs > waits:
            name = f"{manifest['kind']}/{manifest['metadata']['name']}"
            found.append(f"{name}: ready in up to {needs} s, awaited {waits} s")
    return found


def kubernetes_objects(synthesis: Synthesis) -> list[Manifest]:
    return [r.inputs for r in synthesis.deployed() if is_kubernetes_object(r)]


@pytest.mark.parametrize("stack", STACKS)
def test_no_awaited_object_can_need_longer_than_pulumi_waits_for_it(synthesized: Synth, stack: str) -> None:
    objects = kubernetes_objects(synthesized(stack))
    assert not overdue(objects)
    # Not vacuous: the stack has an object that needs more than the default, and it is granted it.
    longer = [o for o in objects if readiness(o, objects) > DEFAULT_TIMEOUT_SECONDS]
    assert [o["kind"] for o in longer] == ["Job"], longer
    assert all(timeout(o) for o in longer)


# --- the walk itself, on hand-made objects ---------------------------------------------------

LABELS = {"app.kubernetes.io/name": "api"}


def _meta(name: str, annotations: dict[str, str] | None = None, namespace: str = "app") -> Manifest:
    return {"name": name, "namespace": namespace, "annotations": annotations or {}}


def deployment(init_timeout: str | None, annotations: dict[str, str] | None = None) -> Manifest:
    env = [{"name": "TIMEOUT_SECONDS", "value": init_timeout}] if init_timeout else []
    init = [{"name": "wait-for-migration", "image": "i", "env": env}]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta("api", annotations),
        "spec": {"template": {"metadata": {"labels": LABELS}, "spec": {"initContainers": init}}},
    }


def service(annotations: dict[str, str] | None = None, namespace: str = "app") -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta("api", annotations, namespace),
        "spec": {"selector": LABELS},
    }


def job(deadline: int | None, annotations: dict[str, str] | None = None) -> Manifest:
    spec: Manifest = {"template": {"metadata": {"labels": {"job": "migrate"}}, "spec": {}}}
    if deadline is not None:
        spec["activeDeadlineSeconds"] = deadline
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": _meta("migrate", annotations), "spec": spec}


WAITED = {"pulumi.com/timeoutSeconds": "3600"}
SKIPPED = {"pulumi.com/skipAwait": "true"}


def test_a_service_whose_pods_wait_for_a_migration_is_overdue_at_the_default() -> None:
    found = overdue([deployment("3300", WAITED), service()])
    assert found == ["Service/api: ready in up to 3300.0 s, awaited 600.0 s"]


def test_a_service_that_waits_long_enough_or_not_at_all_is_not() -> None:
    assert not overdue([deployment("3300", WAITED), service({"pulumi.com/timeoutSeconds": "3300"})])
    assert not overdue([deployment("3300", WAITED), service(SKIPPED)])


def test_the_deployment_itself_waits_for_its_init_containers() -> None:
    assert overdue([deployment("3300")]) == ["Deployment/api: ready in up to 3300.0 s, awaited 600.0 s"]


def test_a_service_in_another_namespace_selects_none_of_those_pods() -> None:
    assert not overdue([deployment("3300", WAITED), service(namespace="other")])


def test_an_init_container_with_no_declared_bound_may_wait_forever() -> None:
    assert overdue([deployment(None, {"pulumi.com/timeoutSeconds": "86400"})])
    assert not overdue([deployment(None, SKIPPED)])


def test_a_job_is_awaited_as_long_as_its_deadline_lets_it_run() -> None:
    assert overdue([job(3600)]) == ["Job/migrate: ready in up to 3600.0 s, awaited 600.0 s"]
    assert not overdue([job(3600, {"pulumi.com/timeoutSeconds": "3900"})])
    # No deadline: the Job may run forever, so no timeout is enough.
    assert overdue([job(None, {"pulumi.com/timeoutSeconds": "86400"})])
