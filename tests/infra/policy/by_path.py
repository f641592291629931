"""Violations planted on every path a resource takes to the cluster or the cloud, each policy's intent.

The literal forms are the table's first part (test_violation_table.py); these
break the same intents another way: through a patch, a chart's values under any
key or in a values file, the default security group, a lone rule, ranges that
add up to the internet, a secret under another name or in another encoding, a
role that is admin in all but name, and the intents that had no policy.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from tests.infra.policy.table import POD, Fixture, f, helm, patch, values_file, workload
from tests.infra.policy.test_policies import CONTAINER, LABELS, LOCKED, R, cluster, config_map, deployment

# Generated-looking secrets, made here so that this file holds none.
RANDOM = base64.b64encode(hashlib.sha256(b"planted").digest()).decode()
OTHER_RANDOM = base64.b64encode(hashlib.sha256(b"planted again").digest()).decode()[:32]
HALVES = ["0.0.0.0/1", "128.0.0.0/1"]
QUARTERS = ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"]


def group(*ingresses: dict[str, Any], default: bool = False) -> R:
    kind = (
        "vpcDefaultSecurityGroup:VpcDefaultSecurityGroup" if default else "vpcSecurityGroup:VpcSecurityGroup"
    )
    return R(f"yandex:index/{kind}", "default" if default else "nodes", {"ingresses": list(ingresses)})


def opening(blocks: list[str], **ports: int) -> dict[str, Any]:
    return {"description": "r", "protocol": "TCP", "v4CidrBlocks": blocks, **ports}


def lone_rule(blocks: list[str], **ports: int) -> R:
    return R(
        "yandex:index/vpcSecurityGroupRule:VpcSecurityGroupRule",
        "rule",
        {"direction": "ingress", "securityGroupBinding": "enp1", **opening(blocks, **ports)},
    )


def k8s(kind: str, group_version: str, name: str, **props: Any) -> R:
    return R(
        f"kubernetes:{group_version}:{kind}",
        name,
        {"metadata": {"name": name, "labels": dict(LABELS)}, **props},
    )


def service(kind: str, port: int, selector: dict[str, str]) -> R:
    spec = {"type": kind, "ports": [{"port": port, "targetPort": port}], "selector": selector}
    return k8s("Service", "core/v1", "db-public", spec=spec)


def ingress(tls: list[dict[str, Any]] | None) -> R:
    rule = {"host": "samokoder.ru", "http": {"paths": [{"path": "/", "pathType": "Prefix"}]}}
    spec: dict[str, Any] = {"ingressClassName": "nginx", "rules": [rule]}
    if tls is not None:
        spec["tls"] = tls
    return k8s("Ingress", "networking.k8s.io/v1", "site", spec=spec)


def role(kind: str, verbs: list[str], resources: list[str]) -> R:
    rules = [{"apiGroups": [""], "resources": resources, "verbs": verbs}]
    return k8s(kind, "rbac.authorization.k8s.io/v1", "ops", rules=rules)


def postgres(**spec: Any) -> R:
    return k8s("Cluster", "postgresql.cnpg.io/v1", "samokoder-db", spec=spec)


def folder_role(role_name: str) -> R:
    return R(
        "yandex:index/resourcemanagerFolderIamMember:ResourcemanagerFolderIamMember",
        "grant",
        {"role": role_name, "member": "serviceAccount:aje1"},
    )


TRUST_LINE = "host all all 0.0.0.0/0 trust"
ENV_FILE = f"LOG_LEVEL=info\nSMTP_PASS={OTHER_RANDOM}\n"

HOST_ACCESS: tuple[Fixture, ...] = (
    f(
        "DeploymentPatch with hostNetwork",
        "no-host-access",
        patch(deployment(**{f"{POD}/hostNetwork": True})),
    ),
    f("Helm values hostPID under any key", "no-host-access", helm({"agent": {"daemon": {"hostPID": True}}})),
    f("Helm values privileged outside a context", "no-host-access", helm({"worker": {"privileged": True}})),
    f(
        "Helm values hostPath in a chart's extra volumes",
        "no-host-access",
        helm({"extraVolumes": [{"name": "root", "hostPath": {"path": "/"}}]}),
    ),
    f("values file hostNetwork", "no-host-access", values_file("node:\n  hostNetwork: true\n")),
    f(
        "values file hostPath in a list",
        "no-host-access",
        values_file("extraVolumes:\n- name: root\n  hostPath:\n    path: /\n"),
    ),
    f(
        "StatefulSetPatch runs as root",
        "containers-locked-down",
        patch(workload("StatefulSet", **{f"{CONTAINER}/securityContext": {**LOCKED, "runAsUser": 0}})),
    ),
    f(
        "Helm values escalation under any key",
        "containers-locked-down",
        helm({"primary": {"containerSecurity": {"allowPrivilegeEscalation": True}}}),
    ),
    f("values file runAsUser 0", "containers-locked-down", values_file("worker:\n  runAsUser: 0\n")),
    f(
        "DeploymentPatch image by tag",
        "images-by-digest",
        patch(deployment(**{f"{CONTAINER}/image": "cr.yandex/crp0/api:2"})),
    ),
    f(
        "values file image latest",
        "images-by-digest",
        values_file("image:\n  repository: oliver006/redis_exporter\n  tag: latest\n"),
    ),
)

NETWORK: tuple[Fixture, ...] = (
    f(
        "PostgreSQL to two halves of the internet",
        "security-groups-closed",
        group(opening(HALVES, port=5432)),
    ),
    f(
        "Redis to the internet over two rules",
        "security-groups-closed",
        group(opening(HALVES[:1], port=6379), opening(HALVES[1:], port=6379)),
    ),
    f(
        "PostgreSQL to IPv6's two halves",
        "security-groups-closed",
        group({"description": "r", "protocol": "TCP", "port": 5432, "v6CidrBlocks": ["::/1", "8000::/1"]}),
    ),
    f(
        "default group opens Redis",
        "security-groups-closed",
        group(opening(["0.0.0.0/0"], port=6379), default=True),
    ),
    f(
        "lone rule: every port to four quarters",
        "security-groups-closed",
        lone_rule(QUARTERS, fromPort=0, toPort=65535),
    ),
    f("SSH from the internet", "admin-ports-closed", group(opening(["0.0.0.0/0"], port=22))),
    f("SSH from a public /7", "admin-ports-closed", group(opening(["64.0.0.0/7"], port=22))),
    f(
        "default group opens the kubelet",
        "admin-ports-closed",
        group(opening(HALVES, port=10250), default=True),
    ),
    f("lone rule opens etcd", "admin-ports-closed", lone_rule(["0.0.0.0/0"], fromPort=2379, toPort=2380)),
    f(
        "prod API 6443 beyond the allow-list",
        "admin-ports-closed",
        group(opening(HALVES, port=6443)),
        stack="prod",
    ),
    f(
        "prod API to two halves",
        "prod-api-private",
        cluster(),
        group(opening(HALVES, port=443)),
        stack="prod",
    ),
    f(
        "prod API through the default group",
        "prod-api-private",
        cluster(),
        group(opening(["0.0.0.0/0"], port=6443), default=True),
        stack="prod",
    ),
    f(
        "prod API through a lone rule",
        "prod-api-private",
        cluster(),
        lone_rule(QUARTERS, port=443),
        stack="prod",
    ),
)

SECRETS: tuple[Fixture, ...] = (
    f(
        "secret in a ConfigMap's binaryData",
        "no-secret-literals",
        R(
            "kubernetes:core/v1:ConfigMap",
            "config",
            {
                "metadata": {"name": "c", "labels": dict(LABELS)},
                "binaryData": {"app.env": base64.b64encode(ENV_FILE.encode()).decode()},
            },
        ),
    ),
    f(
        "password in an env file, not named *PASSWORD*",
        "no-secret-literals",
        config_map({"app.env": ENV_FILE}),
    ),
    f(
        "env DB_PASS",
        "no-secret-literals",
        deployment(**{f"{CONTAINER}/env": [{"name": "DB_PASS", "value": "Tr0ub4dor-and-3"}]}),
    ),
    f(
        "env with a generated secret's shape",
        "no-secret-literals",
        deployment(**{f"{CONTAINER}/env": [{"name": "APP_SIGNING", "value": RANDOM}]}),
    ),
    f(
        "container argument --db-password",
        "no-secret-literals",
        deployment(**{f"{CONTAINER}/args": [f"--db-password={OTHER_RANDOM}"]}),
    ),
    f("Helm values secret-shaped under any key", "no-secret-literals", helm({"upstream": {"auth": RANDOM}})),
    f("values file pwd", "no-secret-literals", values_file(f"smtp:\n  pwd: {OTHER_RANDOM}\n")),
    f("ConfigMapPatch with a secret", "no-secret-literals", patch(config_map({"SESSION": RANDOM}))),
    f(
        "SecretPatch literal",
        "secrets-not-in-code",
        patch(k8s("Secret", "core/v1", "creds", stringData={"key": "written-in-code"})),
    ),
)

ROLES: tuple[Fixture, ...] = (
    f("kms.admin on the folder", "no-primitive-roles", folder_role("kms.admin")),
    f("iam.serviceAccounts.admin", "no-primitive-roles", folder_role("iam.serviceAccounts.admin")),
    f("compute.editor", "no-primitive-roles", folder_role("compute.editor")),
    f("k8s.cluster-api.cluster-admin", "no-primitive-roles", folder_role("k8s.cluster-api.cluster-admin")),
    f(
        "binding the built-in 'edit'",
        "no-primitive-roles",
        k8s("ClusterRoleBinding", "rbac.authorization.k8s.io/v1", "ops", roleRef={"name": "edit"}),
    ),
    f(
        "RoleBindingPatch to cluster-admin",
        "no-primitive-roles",
        patch(k8s("RoleBinding", "rbac.authorization.k8s.io/v1", "ops", roleRef={"name": "cluster-admin"})),
    ),
    f("ClusterRole with '*' verbs", "no-wildcard-roles", role("ClusterRole", ["*"], ["pods"])),
    f("Role with '*' resources", "no-wildcard-roles", role("Role", ["get"], ["*"])),
    f("Role that may escalate", "no-wildcard-roles", role("Role", ["escalate", "bind"], ["roles"])),
    f("ClusterRolePatch with '*'", "no-wildcard-roles", patch(role("ClusterRole", ["*"], ["*"]))),
    f(
        "Helm values extra rule with '*'",
        "no-wildcard-roles",
        helm({"rbac": {"extraRules": [{"apiGroups": [""], "resources": ["*"], "verbs": ["*"]}]}}),
    ),
    f(
        "values file extra rule with '*'",
        "no-wildcard-roles",
        values_file(
            "rbac:\n  extraRules:\n  - apiGroups: ['']\n    resources: ['secrets']\n    verbs: ['*']\n"
        ),
    ),
)

EXPOSURE: tuple[Fixture, ...] = (
    f(
        "LoadBalancer selecting the database's pods",
        "no-public-database",
        service("LoadBalancer", 8432, {"cnpg.io/cluster": "samokoder-db"}),
    ),
    f("NodePort in front of 5432", "no-public-database", service("NodePort", 5432, {"app": "x"})),
    f(
        "ServicePatch to LoadBalancer",
        "no-public-database",
        patch(service("LoadBalancer", 5432, {"cnpg.io/cluster": "samokoder-db"})),
    ),
    f(
        "CloudNativePG managed LoadBalancer service",
        "no-public-database",
        postgres(
            managed={
                "services": {
                    "additional": [
                        {"selectorType": "rw", "serviceTemplate": {"spec": {"type": "LoadBalancer"}}}
                    ]
                }
            }
        ),
    ),
    f(
        "Helm values database service LoadBalancer",
        "no-public-database",
        helm({"primary": {"service": {"type": "LoadBalancer", "ports": {"postgresql": 5432}}}}),
    ),
    f(
        "values file database NodePort",
        "no-public-database",
        values_file("master:\n  service:\n    type: NodePort\n    port: 6379\n"),
    ),
    f("Ingress without TLS", "ingress-tls", ingress(None)),
    f(
        "Ingress with TLS for another host",
        "ingress-tls",
        ingress([{"hosts": ["other.ru"], "secretName": "t"}]),
    ),
    f("IngressPatch clearing TLS", "ingress-tls", patch(ingress([]))),
    f(
        "Helm values chart ingress without TLS",
        "ingress-tls",
        helm({"grafana": {"ingress": {"enabled": True, "hosts": ["g.samokoder.ru"]}}}),
    ),
    f(
        "values file chart ingress without TLS",
        "ingress-tls",
        values_file("ingress:\n  enabled: true\n  hosts:\n  - g.samokoder.ru\n"),
    ),
    f("pg_hba trust", "no-trust-auth", postgres(postgresql={"pg_hba": [TRUST_LINE]})),
    f(
        "ClusterPatch pg_hba trust",
        "no-trust-auth",
        patch(postgres(postgresql={"pg_hba": ["local all all trust"]})),
    ),
    f(
        "Pooler pg_hba trust",
        "no-trust-auth",
        k8s("Pooler", "postgresql.cnpg.io/v1", "pooler", spec={"pgbouncer": {"pg_hba": [TRUST_LINE]}}),
    ),
    f("ConfigMap pg_hba.conf trust", "no-trust-auth", config_map({"pg_hba.conf": f"# mine\n{TRUST_LINE}\n"})),
    f("Helm values pgHba trust", "no-trust-auth", helm({"postgresql": {"pgHbaConfiguration": TRUST_LINE}})),
    f(
        "values file pg_hba trust",
        "no-trust-auth",
        values_file(f"postgresql:\n  pg_hba:\n  - {TRUST_LINE}\n"),
    ),
)

BY_PATH: tuple[Fixture, ...] = (*HOST_ACCESS, *NETWORK, *SECRETS, *ROLES, *EXPOSURE)
