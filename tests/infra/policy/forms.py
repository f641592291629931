"""The violation table's first part: each policy's violations in their literal forms, one per kind of risk."""

from __future__ import annotations

import json
from typing import Any

from tests.infra.policy.table import POD, Fixture, f, helm, workload
from tests.infra.policy.test_policies import (
    CONTAINER,
    DIGEST,
    LABELS,
    LITERAL,
    LOCKED,
    R,
    bucket,
    cluster,
    config_map,
    database,
    deployment,
    key,
    lockbox,
    member,
    node_group,
    repository,
    rule,
    secret,
    security_group,
)

OTHER_TENANT = DIGEST.replace("crp0000000000000000", "crpsomeoneelse00000")
DOCKER_HUB = "docker.io/library/nginx@sha256:" + "cd" * 32

# A password written into code, which the policies must catch.
IN_CODE = "correct-horse-battery"  # pragma: allowlist secret


def iam(kind: str, role: str, **props: Any) -> R:
    return R(f"yandex:index/{kind[0].lower()}{kind[1:]}:{kind}", "grant", {"role": role, **props})


def binding(role: str) -> R:
    return R(
        "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
        "ops",
        {
            "metadata": {"name": "ops", "labels": dict(LABELS)},
            "roleRef": {"kind": "ClusterRole", "name": role},
        },
    )


def unprotected(kind: str, props: dict[str, Any]) -> R:
    return R(kind, "stateful", props, protect=False)


def no_budget() -> list[R]:
    return [deployment()]


URL = "postgresql://samokoder:" + "pw" * 8 + "@samokoder-db-rw:5432/samokoder"
ENV = [{"name": "SAMOKODER_DATABASE_URL", "value": URL}]

FORMS: tuple[Fixture, ...] = (
    # images: by digest, from an allowed registry, from the stack's own registry, no moving tags
    f(
        "Deployment image by tag",
        "images-by-digest",
        deployment(**{f"{CONTAINER}/image": "cr.yandex/crp0/api:1"}),
    ),
    f(
        "StatefulSet image by tag",
        "images-by-digest",
        workload("StatefulSet", **{f"{CONTAINER}/image": "redis:7"}),
    ),
    f(
        "CronJob image by tag",
        "images-by-digest",
        workload("CronJob", **{f"{CONTAINER}/image": "busybox:latest"}),
    ),
    f(
        "DaemonSet image from Docker Hub",
        "images-by-digest",
        workload("DaemonSet", **{f"{CONTAINER}/image": DOCKER_HUB}),
    ),
    f(
        "Helm values image.tag latest",
        "images-by-digest",
        helm({"image": {"repository": "oliver006/redis_exporter", "tag": "latest"}}),
    ),
    f(
        "image from another tenant's registry",
        "images-from-own-registry",
        repository(),
        deployment(**{f"{CONTAINER}/image": OTHER_TENANT}),
    ),
    f(
        "Helm values image from another tenant",
        "images-from-own-registry",
        repository(),
        helm({"image": {"repository": OTHER_TENANT.split("@")[0], "digest": "sha256:" + "ef" * 32}}),
    ),
    # pods locked down, every pod-bearing kind
    f(
        "Deployment may escalate",
        "containers-locked-down",
        deployment(**{f"{CONTAINER}/securityContext": {"runAsNonRoot": True}}),
    ),
    f(
        "StatefulSet may run as root",
        "containers-locked-down",
        workload("StatefulSet", **{f"{CONTAINER}/securityContext": {"allowPrivilegeEscalation": False}}),
    ),
    f(
        "DaemonSet without limits",
        "containers-locked-down",
        workload("DaemonSet", **{f"{CONTAINER}/resources": {}}),
    ),
    f(
        "ReplicaSet without probes",
        "containers-locked-down",
        workload("ReplicaSet", **{f"{CONTAINER}/readinessProbe": None, f"{CONTAINER}/livenessProbe": None}),
    ),
    f("bare Pod as root", "containers-locked-down", workload("Pod", **{f"{CONTAINER}/securityContext": {}})),
    f(
        "Job may escalate",
        "containers-locked-down",
        workload("Job", **{f"{CONTAINER}/securityContext": {"runAsNonRoot": True}}),
    ),
    f(
        "CronJob as root",
        "containers-locked-down",
        workload("CronJob", **{f"{CONTAINER}/securityContext": {}}),
    ),
    f("Helm values runAsUser 0", "containers-locked-down", helm({"securityContext": {"runAsUser": 0}})),
    f(
        "Helm values podSecurityContext runAsNonRoot false",
        "containers-locked-down",
        helm({"podSecurityContext": {"runAsNonRoot": False}}),
    ),
    # host access
    f(
        "privileged container",
        "no-host-access",
        deployment(**{f"{CONTAINER}/securityContext": {**LOCKED, "privileged": True}}),
    ),
    f(
        "added capability",
        "no-host-access",
        workload(
            "StatefulSet",
            **{f"{CONTAINER}/securityContext": {**LOCKED, "capabilities": {"add": ["NET_ADMIN"]}}},
        ),
    ),
    f(
        "hostPath volume",
        "no-host-access",
        workload("DaemonSet", **{f"{POD}/volumes": [{"name": "root", "hostPath": {"path": "/"}}]}),
    ),
    f("hostNetwork", "no-host-access", workload("Pod", **{f"{POD}/hostNetwork": True})),
    f("hostPID", "no-host-access", workload("CronJob", **{f"{POD}/hostPID": True})),
    f("hostIPC", "no-host-access", workload("Job", **{f"{POD}/hostIPC": True})),
    f("Helm values privileged", "no-host-access", helm({"securityContext": {"privileged": True}})),
    f("Helm values hostNetwork", "no-host-access", helm({"hostNetwork": True})),
    # security groups
    f("PostgreSQL open to the world", "security-groups-closed", security_group(rule("0.0.0.0/0", port=5432))),
    f(
        "Redis inside a world-open range",
        "security-groups-closed",
        security_group(rule("0.0.0.0/0", fromPort=6000, toPort=6500)),
    ),
    f(
        "pooler port, a lone rule",
        "security-groups-closed",
        R(
            "yandex:index/vpcSecurityGroupRule:VpcSecurityGroupRule",
            "pgbouncer",
            {"direction": "ingress", "protocol": "TCP", "port": 6432, "v4CidrBlocks": ["0.0.0.0/0"]},
        ),
    ),
    f(
        "every NodePort to the world",
        "security-groups-closed",
        security_group(rule("0.0.0.0/0", fromPort=30000, toPort=32767)),
    ),
    f(
        "every port to the world",
        "security-groups-closed",
        security_group(rule("0.0.0.0/0", fromPort=0, toPort=65535)),
    ),
    f(
        "prod API open to the world",
        "prod-api-private",
        cluster(),
        security_group(rule("0.0.0.0/0", port=6443)),
        stack="prod",
    ),
    f("nodes with public IPs", "nodes-private", node_group(nat=True)),
    # buckets
    f("public-read bucket", "buckets-locked-down", bucket(acl="public-read")),
    f(
        "bucket policy for '*'",
        "buckets-locked-down",
        bucket(
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": "*",
                            "Action": "s3:GetObject",
                            "Resource": "arn:aws:s3:::b/*",
                        }
                    ],
                }
            )
        ),
    ),
    f(
        "bucket policy for CanonicalUser '*'",
        "buckets-locked-down",
        bucket(
            policy={"Statement": [{"Effect": "Allow", "Principal": {"CanonicalUser": "*"}, "Action": "*"}]}
        ),
    ),
    f("bucket website hosting", "buckets-locked-down", bucket(website={"indexDocument": "index.html"})),
    f(
        "bucket anonymous read",
        "buckets-locked-down",
        bucket(anonymousAccessFlags={"read": True, "list": False}),
    ),
    f("bucket without KMS", "buckets-locked-down", bucket(serverSideEncryptionConfiguration={})),
    # secrets
    f("Secret stringData literal", "secrets-not-in-code", secret(PASSWORD=IN_CODE)),
    f(
        "Secret data literal",
        "secrets-not-in-code",
        R(
            "kubernetes:core/v1:Secret",
            "creds",
            {"metadata": {"name": "c", "labels": dict(LABELS)}, "data": {"token": "c2VjcmV0"}},
        ),
    ),
    f("DATABASE_URL with a password in a ConfigMap", "no-secret-literals", config_map({"DATABASE_URL": URL})),
    f(
        "SAMOKODER_DATABASE_URL with a password in env",
        "no-secret-literals",
        deployment(**{f"{CONTAINER}/env": ENV}),
    ),
    f("token literal in a ConfigMap", "no-secret-literals", config_map({"OAUTH_TOKEN": LITERAL})),
    f("secret literal in Helm values", "no-secret-literals", helm({"auth": {"password": LITERAL}})),
    f("Lockbox secret without KMS", "lockbox-encrypted", lockbox(kms_key_id="")),
    # roles
    f("primitive editor", "no-primitive-roles", member("editor")),
    f(
        "cloud owner",
        "no-primitive-roles",
        iam("ResourcemanagerCloudIamMember", "resource-manager.clouds.owner", member="userAccount:a"),
    ),
    f(
        "resource-manager admin",
        "no-primitive-roles",
        iam("ResourcemanagerFolderIamBinding", "resource-manager.admin", members=["serviceAccount:a"]),
    ),
    f(
        "organization admin",
        "no-primitive-roles",
        iam("OrganizationmanagerOrganizationIamMember", "organization-manager.admin"),
    ),
    f(
        "registry open to all users",
        "no-primitive-roles",
        iam("ContainerRegistryIamBinding", "container-registry.images.puller", members=["system:allUsers"]),
    ),
    f("cluster-admin binding", "no-primitive-roles", binding("cluster-admin")),
    # production state protected
    f(
        "prod Kubernetes cluster unprotected",
        "prod-stateful-protected",
        unprotected("yandex:index/kubernetesCluster:KubernetesCluster", {"master": {"publicIp": False}}),
        stack="prod",
    ),
    f(
        "prod in-cluster Redis unprotected",
        "prod-stateful-protected",
        R(workload("StatefulSet").type, "redis", workload("StatefulSet").props),
        stack="prod",
    ),
    f(
        "prod Lockbox secret unprotected",
        "prod-stateful-protected",
        R(lockbox().type, "secrets-app", lockbox().props),
        stack="prod",
    ),
    f("prod KMS key unprotected", "prod-stateful-protected", key(protect=False), stack="prod"),
    f(
        "prod bucket unprotected",
        "prod-stateful-protected",
        R(bucket().type, "backups", bucket().props),
        stack="prod",
    ),
    f(
        "prod site address unprotected",
        "prod-stateful-protected",
        unprotected("yandex:index/vpcAddress:VpcAddress", {"externalIpv4Address": {}}),
        stack="prod",
    ),
    f(
        "prod public DNS zone unprotected",
        "prod-stateful-protected",
        unprotected("yandex:index/dnsZone:DnsZone", {"zone": "samokoder.ru.", "public": True}),
        stack="prod",
    ),
    # database
    f("no WAL archiver", "postgres-backed-up", *database(archiver=False)),
    f("no scheduled backup", "postgres-backed-up", *database(scheduled=False)),
    f("retention under the prod floor", "postgres-backed-up", *database(retention="7d"), stack="prod"),
    # advisory
    f("Lockbox secret not rotated", "secrets-rotated", lockbox(created_at="2020-01-01T00:00:00Z")),
    f("prod api with one replica", "user-facing-replicas", deployment(**{"spec/replicas": 1}), stack="prod"),
    f(
        "prod api autoscaled from one",
        "user-facing-replicas",
        R(
            "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
            "api-hpa",
            {"metadata": {"name": "a", "labels": dict(LABELS)}, "spec": {"minReplicas": 1}},
        ),
        stack="prod",
    ),
    f("Deployment without a budget", "workloads-have-budgets", *no_budget()),
    f(
        "object without labels",
        "recommended-labels",
        R("kubernetes:core/v1:ConfigMap", "bare", {"metadata": {"name": "b"}, "data": {}}),
    ),
)
