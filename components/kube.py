"""Small builders the components share: Helm releases of pinned charts, Kubernetes objects from dicts."""

from __future__ import annotations

from typing import Any, Literal

import pulumi
from pulumi_kubernetes import _utilities as k8s_sdk

from infra.render.charts import Chart

# Outputs pulumi-kubernetes' typed classes mark secret, by (apiVersion, kind).
_SECRET_OUTPUTS = {("v1", "Secret"): ["data", "stringData"]}


def type_token(api_version: str, kind: str) -> str:
    """The provider's type token of a kind: ``kubernetes:apps/v1:Deployment``, core kinds under ``core/``."""
    group_version = api_version if "/" in api_version else f"core/{api_version}"
    return f"kubernetes:{group_version}:{kind}"


class KubernetesObject(pulumi.CustomResource):
    """One Kubernetes object exactly as a renderer wrote it, built-in kind or custom resource.

    It registers what pulumi-kubernetes' typed class of the kind registers for
    the same manifest: the provider's type token, the manifest's camelCase
    fields as inputs, the SDK's plugin version, and a Secret's data as secret
    inputs and outputs (tests/components/test_kube.py compares the two). It
    avoids importing a typed module per API group, which alone costs more CPU
    than the rest of a synth (about 0.45 s of it).
    """

    def __init__(self, resource_name: str, manifest: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        api_version, kind = manifest["apiVersion"], manifest["kind"]
        secret = _SECRET_OUTPUTS.get((api_version, kind), [])
        own = pulumi.ResourceOptions(
            version=k8s_sdk.get_version(),  # type: ignore[no-untyped-call]
            additional_secret_outputs=secret or None,
        )
        # The typed Secret class also sends its data as secret inputs.
        inputs = {k: pulumi.Output.secret(v) if k in secret else v for k, v in manifest.items()}
        super().__init__(type_token(api_version, kind), resource_name, inputs, opts.merge(own))


def kubernetes_object(
    resource_name: str, manifest: dict[str, Any], opts: pulumi.ResourceOptions
) -> KubernetesObject:
    """Any object a generator rendered; nested fields keep the manifest's own (camelCase) names."""
    return KubernetesObject(resource_name, manifest, opts)


# The same, for a renderer's custom resource (its CRD must exist first: see tests/test_ordering.py).
custom_resource = kubernetes_object


class HelmRelease(pulumi.CustomResource):
    """A Helm release as pulumi-kubernetes' ``helm.v3.Release`` registers it (its type token, inputs and
    plugin version), without importing the typed module, which brings in the YAML and HTTP stacks."""

    status: pulumi.Output[Any]

    def __init__(self, resource_name: str, props: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        own = pulumi.ResourceOptions(version=k8s_sdk.get_version())  # type: ignore[no-untyped-call]
        # compat: what the typed class always sends (values as JSON); status: its one output.
        super().__init__(
            RELEASE_TYPE, resource_name, {**props, "compat": "true", "status": None}, opts.merge(own)
        )


RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"


def helm_release(
    resource_name: str,
    chart: Chart,
    namespace: pulumi.Input[str],
    values: pulumi.Input[dict[str, Any]],
    opts: pulumi.ResourceOptions,
    *,
    release_name: str | None = None,
) -> HelmRelease:
    """A release named after its chart unless ``release_name`` says otherwise."""
    props = {
        "name": release_name or chart.name,
        "chart": chart.name,
        "version": chart.version,
        "repositoryOpts": {"repo": chart.repository},
        "namespace": namespace,
        "values": values,
        # A release owns CRDs and webhooks that later objects need: wait until
        # it is ready, and roll back rather than leave half an install.
        "atomic": True,
        "timeout": 900,
    }
    return HelmRelease(resource_name, props, opts)


PodSecurity = Literal["restricted", "baseline", "privileged"]


def namespace(
    resource_name: str,
    name: str,
    labels: dict[str, str],
    pod_security: PodSecurity,
    opts: pulumi.ResourceOptions,
) -> KubernetesObject:
    """A namespace whose pods must meet the given Pod Security Standard."""
    manifest = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {**labels, "pod-security.kubernetes.io/enforce": pod_security}},
    }
    return KubernetesObject(resource_name, manifest, opts)
