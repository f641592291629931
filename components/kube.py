"""Small builders the components share: Helm releases of pinned charts, custom resources from dicts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s


@dataclass(frozen=True)
class Chart:
    """A Helm chart pinned to one version of one repository."""

    name: str
    version: str
    repository: str


def helm_release(
    resource_name: str,
    chart: Chart,
    namespace: pulumi.Input[str],
    values: dict[str, Any],
    opts: pulumi.ResourceOptions,
) -> k8s.helm.v3.Release:
    return k8s.helm.v3.Release(
        resource_name,
        name=chart.name,
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
    return k8s.apiextensions.CustomResource(
        resource_name,
        api_version=manifest["apiVersion"],
        kind=manifest["kind"],
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=metadata["name"], namespace=metadata.get("namespace"), labels=metadata.get("labels")
        ),
        spec=manifest["spec"],
        opts=opts,
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
