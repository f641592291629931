"""What the components share: their base class, Helm releases of pinned charts, Kubernetes objects from dicts.

Everything is registered by pulumi-kubernetes' own public classes (a built-in
kind by its typed class, a custom resource by ``apiextensions.CustomResource``,
a release by ``helm.v3.Release``), so the SDK sets what its classes set (type
token, plugin version, a Secret's data kept secret) and nothing here repeats it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypeAlias

import pulumi
import pulumi_kubernetes as k8s

from infra.render.charts import Chart

KubernetesObject: TypeAlias = pulumi.CustomResource
HelmRelease: TypeAlias = k8s.helm.v3.Release
PodSecurity = Literal["restricted", "baseline", "privileged"]

# The SDK's typed class of every built-in kind the renderers write, by (apiVersion, kind).
# A kind missing here fails loudly in kubernetes_object: add its class, never a fallback.
_TYPED: dict[tuple[str, str], Callable[..., pulumi.CustomResource]] = {
    ("v1", "ConfigMap"): k8s.core.v1.ConfigMap,
    ("v1", "Namespace"): k8s.core.v1.Namespace,
    ("v1", "Secret"): k8s.core.v1.Secret,
    ("v1", "Service"): k8s.core.v1.Service,
    ("v1", "ServiceAccount"): k8s.core.v1.ServiceAccount,
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("apps/v1", "StatefulSet"): k8s.apps.v1.StatefulSet,
    ("autoscaling/v2", "HorizontalPodAutoscaler"): k8s.autoscaling.v2.HorizontalPodAutoscaler,
    ("batch/v1", "Job"): k8s.batch.v1.Job,
    ("networking.k8s.io/v1", "Ingress"): k8s.networking.v1.Ingress,
    ("networking.k8s.io/v1", "NetworkPolicy"): k8s.networking.v1.NetworkPolicy,
    ("policy/v1", "PodDisruptionBudget"): k8s.policy.v1.PodDisruptionBudget,
    ("rbac.authorization.k8s.io/v1", "Role"): k8s.rbac.v1.Role,
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): k8s.rbac.v1.RoleBinding,
}
# What a custom resource may hold: apiextensions.CustomResource takes no other top-level field.
_CUSTOM_FIELDS = frozenset({"apiVersion", "kind", "metadata", "spec"})
_WORD_START = re.compile(r"(?<!^)(?=[A-Z])")


class Component(pulumi.ComponentResource):
    """A component whose children are parented to it; ``outputs`` registers attributes by name."""

    def opts(
        self,
        *after: pulumi.Resource,
        protect: bool | None = None,
        ignore_changes: list[str] | None = None,
    ) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(
            parent=self, depends_on=list(after), protect=protect, ignore_changes=ignore_changes
        )

    def outputs(self, *names: str) -> None:
        self.register_outputs({name: getattr(self, name) for name in names})


def is_builtin(api_version: str) -> bool:
    """Kubernetes' own API groups: the core group, the unqualified ones and ``*.k8s.io``."""
    group = api_version.rpartition("/")[0]
    return "." not in group or group.endswith(".k8s.io")


def kubernetes_object(
    resource_name: str, manifest: dict[str, Any], opts: pulumi.ResourceOptions
) -> KubernetesObject:
    """Any object a renderer wrote, by the SDK's class for its kind; built-in kinds and custom resources."""
    api_version, kind = manifest["apiVersion"], manifest["kind"]
    if not is_builtin(api_version):
        return custom_resource(resource_name, manifest, opts)
    typed = _TYPED.get((api_version, kind))
    if typed is None:
        raise ValueError(
            f"{resource_name}: no typed class for {api_version} {kind} in components/kube.py (_TYPED); "
            "add pulumi-kubernetes' class for it"
        )
    # A top-level field as the class's argument (roleRef -> role_ref); nested fields go as they are.
    fields = {
        _WORD_START.sub("_", k).lower(): v for k, v in manifest.items() if k not in ("apiVersion", "kind")
    }
    return typed(resource_name, opts=opts, **fields)


def custom_resource(
    resource_name: str, manifest: dict[str, Any], opts: pulumi.ResourceOptions
) -> KubernetesObject:
    """A renderer's custom resource (its CRD must exist first: see tests/test_ordering.py)."""
    api_version, kind = manifest["apiVersion"], manifest["kind"]
    if is_builtin(api_version):
        raise ValueError(f"{resource_name}: {api_version} {kind} is a built-in kind: use kubernetes_object")
    extra = sorted(set(manifest) - _CUSTOM_FIELDS)
    if extra:
        raise ValueError(f"{resource_name}: a custom resource holds metadata and spec only, not {extra}")
    return k8s.apiextensions.CustomResource(
        resource_name,
        api_version=api_version,
        kind=kind,
        metadata=manifest.get("metadata"),
        spec=manifest.get("spec"),
        opts=opts,
    )


def spec_after(
    render: Callable[[str], dict[str, Any]], value: pulumi.Input[str], placeholder: str
) -> dict[str, Any]:
    """``render``'s manifest whose spec is rendered once ``value`` (an image, a Lockbox id) is known;
    its name and labels are known now."""
    known = pulumi.Output.from_input(value)
    return {**render(placeholder), "spec": known.apply(lambda text: render(text)["spec"])}


def secret(
    resource_name: str,
    metadata: dict[str, Any],
    string_data: Mapping[str, pulumi.Input[str]],
    opts: pulumi.ResourceOptions,
) -> KubernetesObject:
    return kubernetes_object(
        resource_name,
        {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "stringData": dict(string_data)},
        opts,
    )


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
    args = k8s.helm.v3.ReleaseArgs(
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
    )
    return k8s.helm.v3.Release(resource_name, args, opts)


def namespace(
    resource_name: str,
    name: str,
    labels: dict[str, str],
    pod_security: PodSecurity,
    opts: pulumi.ResourceOptions,
) -> KubernetesObject:
    """A namespace whose pods must meet the given Pod Security Standard."""
    enforced = {**labels, "pod-security.kubernetes.io/enforce": pod_security}
    return k8s.core.v1.Namespace(resource_name, metadata={"name": name, "labels": enforced}, opts=opts)


def installation(
    component: Component,
    resource_name: str,
    chart: Chart,
    values: pulumi.Input[dict[str, Any]],
    *,
    home: str,
    labels: dict[str, str],
    pod_security: PodSecurity,
    after: Sequence[pulumi.Resource] = (),
) -> tuple[KubernetesObject, HelmRelease]:
    """A chart's own namespace ``home`` and its release there, after the namespace and ``after``."""
    created = namespace(f"{resource_name}-namespace", home, labels, pod_security, component.opts())
    release = helm_release(resource_name, chart, home, values, component.opts(created, *after))
    return created, release
