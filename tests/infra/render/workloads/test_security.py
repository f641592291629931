"""Security contexts: what the restricted Pod Security Standard demands, for every pod and container."""

from __future__ import annotations

import pytest

from infra.app_contract import FRONTEND_PORT
from infra.render.workloads.security import container_security, pod_security

# The sysctls the baseline and restricted standards allow a pod to set (Kubernetes 1.30).
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}
ALLOWED_SECCOMP = {"RuntimeDefault", "Localhost"}


def test_a_container_meets_the_restricted_standard() -> None:
    context = container_security()
    assert context["runAsNonRoot"] is True
    assert context["runAsUser"] > 0
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"]["drop"] == ["ALL"]
    assert "add" not in context["capabilities"]
    assert context["seccompProfile"]["type"] in ALLOWED_SECCOMP
    assert "privileged" not in context or context["privileged"] is False


def test_a_container_writes_nothing_outside_its_volumes() -> None:
    assert container_security()["readOnlyRootFilesystem"] is True


@pytest.mark.parametrize("low_ports", [False, True])
def test_a_pod_meets_the_restricted_standard(low_ports: bool) -> None:
    context = pod_security(low_ports=low_ports)
    assert context["runAsNonRoot"] is True
    assert context["runAsUser"] > 0
    assert context["seccompProfile"]["type"] in ALLOWED_SECCOMP
    assert {s["name"] for s in context.get("sysctls", [])} <= SAFE_SYSCTLS


@pytest.mark.parametrize("low_ports", [False, True])
def test_pod_and_container_run_as_one_user_and_group_that_owns_the_volumes(low_ports: bool) -> None:
    pod, container = pod_security(low_ports=low_ports), container_security()
    assert pod["runAsUser"] == container["runAsUser"]
    assert pod["runAsGroup"] == container["runAsGroup"]
    assert pod["fsGroup"] == container["runAsGroup"]


def test_only_a_pod_that_asks_may_bind_a_low_port_and_then_the_frontends_port() -> None:
    assert "sysctls" not in pod_security()
    (sysctl,) = pod_security(low_ports=True)["sysctls"]
    assert sysctl["name"] == "net.ipv4.ip_unprivileged_port_start"
    assert int(sysctl["value"]) <= FRONTEND_PORT


def test_each_call_returns_a_context_of_its_own() -> None:
    # Renderers embed these in many objects: changing one must not change the others.
    first = container_security()
    first["capabilities"]["drop"].append("NET_RAW")
    first["runAsUser"] = 0
    pod = pod_security(low_ports=True)
    pod["sysctls"].clear()
    assert container_security()["capabilities"]["drop"] == ["ALL"]
    assert container_security()["runAsUser"] > 0
    assert pod_security(low_ports=True)["sysctls"]
