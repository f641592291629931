"""Every policy rejects what breaks it and passes what keeps it, offline and in the real pack."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from infra.ops.check.config import policy_config
from infra.ops.check.offline import check, mandatory
from infra.ops.synth.mocks import RecordedResource
from infra.ops.synth.runner import Synthesis
from infra.policy.catalog import POLICIES
from infra.settings.loader import load_settings
from tests.cli_runner import samokoder_infra
from tests.conftest import STACKS, stack_file_values, write_project
from tests.infra.policy.pack import Pack, running_pack

Synth = Callable[[str], Synthesis]
DIGEST = "cr.yandex/crp0000000000000000/api@sha256:" + "ab" * 32
LABELS = {
    "app.kubernetes.io/name": "samokoder-api",
    "app.kubernetes.io/part-of": "samokoder",
    "app.kubernetes.io/managed-by": "pulumi",
    "app.kubernetes.io/component": "api",
}
LOCKED = {
    "runAsNonRoot": True,
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}

# A password written into code, which the policy must catch.
IN_CODE = "hunter2-in-code"  # pragma: allowlist secret


@dataclass(frozen=True)
class R:
    """A resource as both paths see it: type, name, properties, protect."""

    type: str
    name: str
    props: dict[str, Any]
    protect: bool = False

    def recorded(self) -> RecordedResource:
        urn = f"urn:pulumi:test::samokoder::{self.type}::{self.name}"
        return RecordedResource(urn, self.type, self.name, "", "", True, self.protect, (), self.props)


def deployment(**changes: Any) -> R:
    container = {
        "name": "api",
        "image": DIGEST,
        "securityContext": dict(LOCKED),
        "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
        "readinessProbe": {"httpGet": {"path": "/health", "port": "http"}},
        "livenessProbe": {"httpGet": {"path": "/health", "port": "http"}},
        "env": [{"name": "SAMOKODER_LOG_FORMAT", "value": "json"}],
    }
    props: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "samokoder-api", "labels": dict(LABELS)},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "samokoder-api"}},
            "template": {"metadata": {"labels": dict(LABELS)}, "spec": {"containers": [container]}},
        },
    }
    for path, value in changes.items():
        node: Any = props
        *parents, last = path.split("/")
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[last] = value
    return R("kubernetes:apps/v1:Deployment", "api", props)


CONTAINER = "spec/template/spec/containers/0"


def budget() -> R:
    return R(
        "kubernetes:policy/v1:PodDisruptionBudget",
        "api-budget",
        {
            "metadata": {"name": "samokoder-api", "labels": dict(LABELS)},
            "spec": {
                "maxUnavailable": 1,
                "selector": {"matchLabels": {"app.kubernetes.io/name": "samokoder-api"}},
            },
        },
    )


def bucket(**props: Any) -> R:
    good: dict[str, Any] = {
        "bucket": "samokoder-prod-db-backups",
        "grants": [{"type": "CanonicalUser", "id": "aje1", "permissions": ["READ", "WRITE"]}],
        "versioning": {"enabled": True},
        "serverSideEncryptionConfiguration": {
            "rule": {
                "applyServerSideEncryptionByDefault": {"kmsMasterKeyId": "abj1", "sseAlgorithm": "aws:kms"}
            }
        },
        "lifecycleRules": [{"enabled": True, "abortIncompleteMultipartUploadDays": 2}],
    }
    good.update(props)
    return R("yandex:index/storageBucket:StorageBucket", "backups", good, protect=True)


def database(retention: str = "30d", archiver: bool = True, scheduled: bool = True) -> list[R]:
    cluster = R(
        "kubernetes:postgresql.cnpg.io/v1:Cluster",
        "db",
        {
            "metadata": {"name": "samokoder-db", "labels": dict(LABELS)},
            "spec": {
                "bootstrap": {"initdb": {"database": "samokoder"}},
                "plugins": [
                    {
                        "name": "barman-cloud.cloudnative-pg.io",
                        "isWALArchiver": archiver,
                        "parameters": {"barmanObjectName": "samokoder-backups"},
                    }
                ],
            },
        },
        protect=True,
    )
    store = R(
        "kubernetes:barmancloud.cnpg.io/v1:ObjectStore",
        "store",
        {
            "metadata": {"name": "samokoder-backups", "labels": dict(LABELS)},
            "spec": {"retentionPolicy": retention},
        },
    )
    schedule = R(
        "kubernetes:postgresql.cnpg.io/v1:ScheduledBackup",
        "daily",
        {
            "metadata": {"name": "daily", "labels": dict(LABELS)},
            "spec": {"cluster": {"name": "samokoder-db"}},
        },
    )
    return [cluster, store, *([schedule] if scheduled else [])]


def lockbox(**props: Any) -> R:
    good = {
        "name": "samokoder-prod-app-secrets",
        "kms_key_id": "abj1",
        "payload": {"SECRET_KEY": "[secret]"},
        "created_at": "2026-11-01T00:00:00Z",
    }
    good.update(props)
    return R("pulumi-python:dynamic:Resource", "secrets-app", good)


def config_map(data: dict[str, str]) -> R:
    return R(
        "kubernetes:core/v1:ConfigMap",
        "config",
        {"metadata": {"name": "c", "labels": dict(LABELS)}, "data": data},
    )


def member(role: str) -> R:
    return R(
        "yandex:index/resourcemanagerFolderIamMember:ResourcemanagerFolderIamMember", "ci", {"role": role}
    )


def key(protect: bool) -> R:
    return R("yandex:index/kmsSymmetricKey:KmsSymmetricKey", "lockbox-key", {"name": "k"}, protect=protect)


# A secret-looking literal, assembled here so that this file holds none.
LITERAL = "y0_" + "AgAAAA" * 6
PRODUCTION: dict[str, dict[str, Any]] = {
    "prod-stateful-protected": {"production": True},
    "user-facing-replicas": {"production": True},
    "postgres-backed-up": {"minimumRetentionDays": 30},
    "secrets-rotated": {"now": "2026-11-26T00:00:00+00:00"},
    "prod-api-private": {"production": True},
}


def repository(registry: str = "crp0000000000000000") -> R:
    return R(
        "yandex:index/containerRepository:ContainerRepository", "registry-api", {"name": f"{registry}/api"}
    )


def security_group(*ingresses: dict[str, Any]) -> R:
    return R("yandex:index/vpcSecurityGroup:VpcSecurityGroup", "nodes", {"ingresses": list(ingresses)})


def rule(cidr: str, **ports: int) -> dict[str, Any]:
    return {"description": "r", "protocol": "TCP", "v4CidrBlocks": [cidr], **ports}


def secret(**data: str) -> R:
    return R(
        "kubernetes:core/v1:Secret",
        "creds",
        {"metadata": {"name": "creds", "labels": dict(LABELS)}, "stringData": data},
    )


def node_group(nat: bool) -> R:
    return R(
        "yandex:index/kubernetesNodeGroup:KubernetesNodeGroup",
        "nodes-a",
        {"instanceTemplate": {"networkInterfaces": [{"nat": nat, "subnetIds": ["e9b1"]}]}},
    )


def cluster(public: bool = True) -> R:
    return R(
        "yandex:index/kubernetesCluster:KubernetesCluster",
        "cluster",
        {"master": {"publicIp": public, "securityGroupIds": ["enp1"]}},
        protect=True,
    )


# policy -> (violating resources, satisfying resources, the resource named in the message)
CASES: dict[str, tuple[list[R], list[R], str]] = {
    "images-by-digest": (
        [deployment(**{f"{CONTAINER}/image": "cr.yandex/crp0/api:latest"})],
        [deployment()],
        "api",
    ),
    "containers-locked-down": (
        [deployment(**{f"{CONTAINER}/securityContext": {"allowPrivilegeEscalation": True}})],
        [deployment()],
        "api",
    ),
    "buckets-locked-down": (
        [bucket(versioning={"enabled": False}, acl="public-read")],
        [bucket()],
        "backups",
    ),
    "postgres-backed-up": (database(retention="7d"), database(), "store"),
    "lockbox-encrypted": ([lockbox(kms_key_id="")], [lockbox()], "secrets-app"),
    "no-secret-literals": (
        [config_map({"OAUTH_TOKEN": LITERAL})],
        [config_map({"SAMOKODER_LOG_FORMAT": "json"})],
        "config",
    ),
    "no-primitive-roles": ([member("editor")], [member("container-registry.images.puller")], "ci"),
    "prod-stateful-protected": ([key(protect=False)], [key(protect=True)], "lockbox-key"),
    "secrets-rotated": ([lockbox(created_at="2026-06-01T00:00:00Z")], [lockbox()], "secrets-app"),
    "user-facing-replicas": ([deployment(**{"spec/replicas": 1})], [deployment()], "api"),
    "workloads-have-budgets": ([deployment()], [deployment(), budget()], "api"),
    "images-from-own-registry": (
        [
            repository(),
            deployment(**{f"{CONTAINER}/image": DIGEST.replace("crp0000000000000000", "crpother")}),
        ],
        [repository(), deployment()],
        "api",
    ),
    "no-host-access": (
        [deployment(**{f"{CONTAINER}/securityContext": {**LOCKED, "privileged": True}})],
        [deployment()],
        "api",
    ),
    "secrets-not-in-code": ([secret(PASSWORD=IN_CODE)], [secret(PASSWORD="[secret]")], "creds"),
    "security-groups-closed": (
        [security_group(rule("0.0.0.0/0", port=5432))],
        [security_group(rule("10.0.0.0/8", port=5432), rule("198.18.235.0/24", fromPort=0, toPort=65535))],
        "nodes",
    ),
    "nodes-private": ([node_group(nat=True)], [node_group(nat=False)], "nodes-a"),
    "prod-api-private": (
        [cluster(), security_group(rule("0.0.0.0/0", port=443))],
        [cluster(), security_group(rule("203.0.113.0/24", port=443))],
        "cluster",
    ),
    "recommended-labels": (
        [
            config_map({}).__class__(
                "kubernetes:core/v1:ConfigMap", "bare", {"metadata": {"name": "b"}, "data": {}}
            )
        ],
        [config_map({})],
        "bare",
    ),
}


def offline_findings(policy: str, resources: list[R]) -> list[str]:
    violations = check([r.recorded() for r in resources], PRODUCTION)
    return [v.message for v in violations if v.policy == policy]


def pack_findings(pack: Pack, policy: str, resources: list[R]) -> list[str]:
    spec = next(p for p in POLICIES if p.name == policy)
    findings = []
    if spec.kind == "resource":
        for r in resources:
            findings += pack.analyze(r.type, r.name, r.props, r.protect)
    else:
        findings += pack.analyze_stack([(r.type, r.name, r.props, r.protect) for r in resources])
    return [f.message.split("\n", 1)[1] for f in findings if f.policy == policy]


@pytest.fixture(scope="module")
def pack() -> Iterator[Pack]:
    with running_pack() as running:
        yield running


def test_there_is_a_case_for_every_policy() -> None:
    # The intents issue 24 added have theirs in test_intents.py, which checks the whole catalog.
    assert set(CASES) <= {p.name for p in POLICIES}


@pytest.mark.parametrize("policy", list(CASES))
def test_the_offline_check_rejects_the_violation_and_passes_the_fix(policy: str) -> None:
    bad, good, named = CASES[policy]
    found = offline_findings(policy, copy.deepcopy(bad))
    assert found, f"{policy} did not reject its violating case"
    assert all(message.startswith(f"{named}:") for message in found), found
    assert offline_findings(policy, copy.deepcopy(good)) == []


@pytest.mark.parametrize(
    "policy",
    [p for p in CASES if next(s for s in POLICIES if s.name == p).config == {} or p not in PRODUCTION],
)
@pytest.mark.tool
def test_the_pack_says_the_same_as_the_offline_check(pack: Pack, policy: str) -> None:
    # The pack runs with its defaults (not production); policies whose verdict needs the stack's
    # configuration are covered offline above and by the pack's config schema below.
    bad, good, _ = CASES[policy]
    assert pack_findings(pack, policy, copy.deepcopy(bad)) == offline_findings(policy, copy.deepcopy(bad))
    assert pack_findings(pack, policy, copy.deepcopy(good)) == []


@pytest.mark.tool
def test_the_pack_serves_exactly_the_catalogs_policies_at_their_levels(pack: Pack) -> None:
    assert pack.policy_names() == [p.name for p in POLICIES]
    found = pack.analyze(*_bad_image())
    assert {(f.policy, f.enforcement) for f in found} >= {("images-by-digest", "mandatory")}


def _bad_image() -> tuple[str, str, dict[str, Any]]:
    r = deployment(**{f"{CONTAINER}/image": "nginx:latest"})
    return r.type, r.name, r.props


def test_policy_config_has_a_schema_and_each_stacks_config_meets_it() -> None:
    for stack in STACKS:
        config = policy_config(load_settings(stack, stack_file_values(stack), offline=True))
        for spec in POLICIES:
            schema = {
                "type": "object",
                "properties": {**spec.config, "enforcementLevel": {"enum": ["advisory", "mandatory"]}},
                "additionalProperties": False,
            }
            jsonschema.validate(config[spec.name], schema)
    prod = policy_config(load_settings("prod", stack_file_values("prod"), offline=True))
    assert prod["postgres-backed-up"]["minimumRetentionDays"] == 30
    assert prod["prod-stateful-protected"]["production"] is True


@pytest.mark.parametrize("stack", STACKS)
def test_both_stacks_pass_every_mandatory_policy(synthesized: Synth, stack: str) -> None:
    synthesis = synthesized(stack)
    violations = check(synthesis.resources, policy_config(synthesis.settings))
    assert mandatory(violations) == []
    assert violations == [], "advisory findings in the project's own stacks"


def test_the_check_command_prints_the_table_and_writes_the_report(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", "staging", stack_file_values("staging"))
    result = samokoder_infra(project, "check", "staging")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "images-by-digest           mandatory  pass" in result.stdout
    report = json.loads((project / "build" / "staging" / "policy-report.json").read_text())
    assert [p["name"] for p in report["policies"]] == [p.name for p in POLICIES]
    assert (report["violations"], report["mandatory_violations"]) == ([], 0)
