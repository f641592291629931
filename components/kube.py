"""Small builders the components share: Helm releases of pinned charts, custom resources from dicts."""

from __future__ import annotations

from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from infra.render.charts import Chart


def helm_release(
    resource_name: str,
    chart: Chart,
    namespace: pulumi.Input[str],
    values: pulumi.Input[dict[str, Any]],
    opts: pulumi.ResourceOptions,
    *,
    release_name: str | None = None,
) -> k8s.helm.v3.Release:
    """A release named after its chart unless ``release_name`` says otherwise."""
    return k8s.helm.v3.Release(
        resource_name,
        name=release_name or chart.name,
        chart=chart.name,
        version=chart.version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository),
        namespace=namespace,
        values=values,
        # A release owns CRDs and webhooks that later objects need: wait until
        # it is ready, and roll back rather than leave half an install.
        atomic=True,
        timeout=900,
        opts=opts,
    )


def custom_resource(
    resource_name: str, manifest: dict[str, Any], opts: pulumi.ResourceOptions
) -> k8s.apiextensions.CustomResource:
    """A custom resource exactly as a generator rendered it."""
    metadata = manifest["metadata"]
    # Everything besides the type and the metadata (spec, or data and the like) as rendered.
    fields = {k: v for k, v in manifest.items() if k not in ("apiVersion", "kind", "metadata")}
    return k8s.apiextensions.CustomResource(
        resource_name,
        api_version=manifest["apiVersion"],
        kind=manifest["kind"],
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=metadata["name"],
            namespace=metadata.get("namespace"),
            labels=metadata.get("labels"),
            annotations=metadata.get("annotations"),
        ),
        opts=opts,
        **fields,
    )


PodSecurity = Literal["restricted", "baseline", "privileged"]


def namespace(
    resource_name: str,
    name: str,
    labels: dict[str, str],
    pod_security: PodSecurity,
    opts: pulumi.ResourceOptions,
) -> k8s.core.v1.Namespace:
    """A namespace whose pods must meet the given Pod Security Standard."""
    return k8s.core.v1.Namespace(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=name, labels={**labels, "pod-security.kubernetes.io/enforce": pod_security}
        ),
        opts=opts,
    )


# Built-in kinds the app creates, by (apiVersion, kind); anything else is a custom resource.
_BUILTIN: dict[tuple[str, str], Any] = {
    ("v1", "ConfigMap"): k8s.core.v1.ConfigMap,
    ("v1", "Service"): k8s.core.v1.Service,
    ("v1", "ServiceAccount"): k8s.core.v1.ServiceAccount,
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("apps/v1", "StatefulSet"): k8s.apps.v1.StatefulSet,
    ("batch/v1", "Job"): k8s.batch.v1.Job,
    ("policy/v1", "PodDisruptionBudget"): k8s.policy.v1.PodDisruptionBudget,
    ("autoscaling/v2", "HorizontalPodAutoscaler"): k8s.autoscaling.v2.HorizontalPodAutoscaler,
    ("networking.k8s.io/v1", "Ingress"): k8s.networking.v1.Ingress,
    ("networking.k8s.io/v1", "NetworkPolicy"): k8s.networking.v1.NetworkPolicy,
    ("rbac.authorization.k8s.io/v1", "Role"): k8s.rbac.v1.Role,
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): k8s.rbac.v1.RoleBinding,
}
# Top-level fields whose Python argument names differ from the manifest's.
_ARGUMENT = {"roleRef": "role_ref", "automountServiceAccountToken": "automount_service_account_token"}


def kubernetes_object(
    resource_name: str, manifest: dict[str, Any], opts: pulumi.ResourceOptions
) -> pulumi.Resource:
    """Any object a generator rendered: a typed resource for built-in kinds, else a custom resource.

    Nested fields keep the manifest's own (camelCase) names, which the provider takes as they are.
    """
    resource = _BUILTIN.get((manifest["apiVersion"], manifest["kind"]))
    if resource is None:
        return custom_resource(resource_name, manifest, opts)
    fields = {_ARGUMENT.get(k, k): v for k, v in manifest.items() if k not in ("apiVersion", "kind")}
    built: pulumi.Resource = resource(resource_name, opts=opts, **fields)
    return built
