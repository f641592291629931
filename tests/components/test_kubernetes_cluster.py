"""KubernetesCluster under Pulumi mocks: what an operator cares about in each stack."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from components.kubernetes_cluster import cluster_service_account_roles
from infra.ops.synth.runner import Synthesis
from infra.settings.loader import read_profile, validate_settings
from tests.conftest import STACKS, stack_file_values, with_changes

Synth = Callable[[str], Synthesis]
CLUSTER = "yandex:index/kubernetesCluster:KubernetesCluster"
NODE_GROUP = "yandex:index/kubernetesNodeGroup:KubernetesNodeGroup"
FOLDER_MEMBER = "yandex:index/resourcemanagerFolderIamMember:ResourcemanagerFolderIamMember"
PRIMITIVE_ROLES = {"admin", "editor", "viewer", "resource-manager.admin", "resource-manager.editor"}


def test_prod_has_a_regional_master_over_three_zones(synthesized: Synth) -> None:
    (cluster,) = synthesized("prod").of_type(CLUSTER)
    master = cluster.inputs["master"]
    assert "zonal" not in master, cluster.urn
    zones = sorted(loc["zone"] for loc in master["regional"]["locations"])
    assert zones == ["ru-central1-a", "ru-central1-b", "ru-central1-d"], cluster.urn


def test_staging_has_a_zonal_master(synthesized: Synth) -> None:
    (cluster,) = synthesized("staging").of_type(CLUSTER)
    assert "regional" not in cluster.inputs["master"], cluster.urn
    assert cluster.inputs["master"]["zonal"]["zone"] == "ru-central1-a", cluster.urn


def test_prod_nodes_are_spread_over_three_zones_one_autoscaled_group_each(synthesized: Synth) -> None:
    groups = synthesized("prod").of_type(NODE_GROUP)
    zones = sorted(g.inputs["allocationPolicy"]["locations"][0]["zone"] for g in groups)
    assert zones == ["ru-central1-a", "ru-central1-b", "ru-central1-d"]
    for group in groups:
        assert "autoScale" in group.inputs["scalePolicy"], group.urn
        assert group.inputs["instanceTemplate"]["schedulingPolicy"]["preemptible"] is False, group.urn


def test_staging_is_smaller_than_prod(synthesized: Synth) -> None:
    def capacity(stack: str) -> float:
        return sum(  # type: ignore[no-any-return]
            g.inputs["scalePolicy"]["autoScale"]["max"] * g.inputs["instanceTemplate"]["resources"]["cores"]
            for g in synthesized(stack).of_type(NODE_GROUP)
        )

    assert capacity("staging") < capacity("prod")


@pytest.mark.parametrize("stack", STACKS)
def test_the_cluster_encrypts_secrets_with_its_kms_key_and_uses_calico(
    synthesized: Synth, stack: str
) -> None:
    synthesis = synthesized(stack)
    (cluster,) = synthesis.of_type(CLUSTER)
    key = synthesis.one("yandex:index/kmsSymmetricKey:KmsSymmetricKey", "cluster-secrets")
    assert cluster.inputs["kmsProvider"]["keyId"] == synthesis.id_of(key), cluster.urn
    assert cluster.inputs["networkPolicyProvider"] == "CALICO", cluster.urn


@pytest.mark.parametrize("stack", STACKS)
def test_cluster_and_nodes_run_as_separate_service_accounts(synthesized: Synth, stack: str) -> None:
    (cluster,) = synthesized(stack).of_type(CLUSTER)
    assert cluster.inputs["serviceAccountId"] != cluster.inputs["nodeServiceAccountId"], cluster.urn


@pytest.mark.parametrize("stack", STACKS)
def test_no_service_account_holds_a_primitive_role(synthesized: Synth, stack: str) -> None:
    grants = [r for r in synthesized(stack).deployed() if "Iam" in r.type and "role" in r.inputs]
    assert grants, "no IAM grants were registered"
    for grant in grants:
        assert grant.inputs["role"] not in PRIMITIVE_ROLES, grant.urn


@pytest.mark.parametrize("stack", STACKS)
def test_the_cluster_role_is_granted_before_the_cluster_is_created(synthesized: Synth, stack: str) -> None:
    synthesis = synthesized(stack)
    (cluster,) = synthesis.of_type(CLUSTER)
    members = {m.urn for m in synthesis.of_type(FOLDER_MEMBER)}
    assert members <= set(cluster.dependencies), cluster.urn


def test_a_private_cluster_without_public_ingress_needs_no_public_roles() -> None:
    profile = with_changes(
        read_profile("staging"),
        {
            "cluster.public_api": False,
            "cluster.public_ingress": False,
            "node_group.public_ip": False,
        },
    )
    settings = validate_settings("staging", profile, stack_file_values("staging"), offline=True)
    assert cluster_service_account_roles(settings.cluster, settings.node_group) == ["k8s.clusters.agent"]


@pytest.mark.parametrize("stack", STACKS)
def test_every_kubernetes_resource_uses_the_clusters_provider(synthesized: Synth, stack: str) -> None:
    synthesis = synthesized(stack)
    (provider,) = synthesis.of_type("pulumi:providers:kubernetes")
    (cluster_component,) = synthesis.of_type("samokoder:cluster:KubernetesCluster")
    assert provider.parent == cluster_component.urn
    kubernetes = [r for r in synthesis.deployed() if r.type.startswith("kubernetes:")]
    assert kubernetes, "no Kubernetes resources were registered"
    for resource in kubernetes:
        assert resource.provider == provider.urn, resource.urn


@pytest.mark.parametrize("stack", STACKS)
def test_the_provider_reaches_the_cluster_endpoint_with_its_ca_and_no_credential(
    synthesized: Synth, stack: str
) -> None:
    (provider,) = synthesized(stack).of_type("pulumi:providers:kubernetes")
    kubeconfig = provider.inputs["kubeconfig"]
    assert "server: https://203.0.113.10" in kubeconfig, provider.urn
    assert "certificate-authority-data:" in kubeconfig, provider.urn
    assert "token:" not in kubeconfig, provider.urn
    assert "client-key" not in kubeconfig, provider.urn


@pytest.mark.parametrize(("stack", "protected"), [("prod", True), ("staging", False)])
def test_prod_protects_the_cluster_and_its_secrets_key(
    synthesized: Synth, stack: str, protected: bool
) -> None:
    synthesis = synthesized(stack)
    (cluster,) = synthesis.of_type(CLUSTER)
    for resource in (
        cluster,
        synthesis.one("yandex:index/kmsSymmetricKey:KmsSymmetricKey", "cluster-secrets"),
    ):
        assert resource.protect is protected, resource.urn
