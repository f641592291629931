"""Workloads: the app's api, worker and frontend, their Services, scaling, budgets, network policies
and Ingress, the migration that runs behind a backup before a new schema rolls out, and the
canary of the next release while it proves itself.

Images come by digest from the registry component; configuration from a
ConfigMap; secrets only from the Secret External Secrets keeps. The objects
themselves are rendered by ``infra/render/workloads/``; this component applies them
and orders them: the Deployments wait for the migration Job of the release's
revision, which waits for its backup; the worker rolls after the API has; a
canary waits for its own release's migration, which runs before it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from components.cluster_redis import ClusterRedis
from components.database import Database
from components.ingress import Ingress
from components.kube import KubernetesObject, kubernetes_object
from components.secrets import Secrets
from infra.app_contract import API_PORT, FRONTEND_PORT
from infra.conventions import Naming, Service
from infra.render.workloads import manifests as m
from infra.render.workloads.canary import (
    canary_autoscaler,
    canary_budget,
    canary_deployment,
    canary_ingress,
    canary_service,
)
from infra.render.workloads.config import config_map
from infra.render.workloads.migrations import migration_access, migration_job, pre_migration_backup
from infra.render.workloads.network_policies import network_policies
from infra.render.workloads.routes import api_ingress, site_ingress

Renderer = Callable[[Naming, m.AppSpec, str], dict[str, Any]]


@dataclass(frozen=True)
class CanaryArgs:
    """The next release's API beside the stable one, with its share of the API's requests."""

    # "cr.yandex/<registry>/api@sha256:..."
    image: pulumi.Input[str]
    migration_revision: str
    weight: int


@dataclass(frozen=True)
class WorkloadsArgs:
    naming: Naming
    app: m.AppSpec
    # The release's Alembic revision: a new one is migrated, behind a backup, before the pods roll.
    migration_revision: str
    # service -> "cr.yandex/<registry>/<service>@sha256:..."
    images: Mapping[Service, pulumi.Input[str]]
    # What must exist first: the namespace, the database (for the migration),
    # the ingress controller, the Secrets the pods read.
    namespace: KubernetesObject
    database: Database
    ingress: Ingress
    secrets: Secrets
    redis: ClusterRedis
    canary: CanaryArgs | None = None


def _spec(render: Renderer, naming: Naming, app: m.AppSpec, image: str) -> dict[str, Any]:
    spec: dict[str, Any] = render(naming, app, image)["spec"]
    return spec


class Workloads(pulumi.ComponentResource):
    def __init__(self, name: str, args: WorkloadsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("samokoder:workloads:Workloads", name, None, opts)
        naming, app = args.naming, args.app
        before: list[pulumi.Resource] = [
            args.namespace,
            args.database,
            args.ingress.release,
            *args.secrets.external_secrets,
            args.redis,
        ]
        first = pulumi.ResourceOptions(parent=self, depends_on=before)

        def apply(
            resource_name: str, manifest: dict[str, object], options: pulumi.ResourceOptions
        ) -> pulumi.Resource:
            return kubernetes_object(f"{name}-{resource_name}", dict(manifest), options)

        config = apply("config", config_map(naming, app), first)
        for policy in network_policies(naming):
            apply(f"policy-{policy['metadata']['name']}", policy, first)

        for access in migration_access(naming):
            apply(f"migrate-{access['kind'].lower()}", access, first)

        def migration(revision: str, api_image: pulumi.Input[str]) -> pulumi.Resource:
            # One Backup and one Job per revision; once done they are history, so
            # a later release with the same revision leaves them as they are.
            frozen = pulumi.ResourceOptions(ignore_changes=["spec"])
            backup = apply(f"backup-{revision}", pre_migration_backup(naming, revision), first.merge(frozen))
            return kubernetes_object(
                f"{name}-migrate-{revision}",
                {
                    **migration_job(naming, revision, "{api image}"),
                    "spec": pulumi.Output.from_input(api_image).apply(
                        lambda image: migration_job(naming, revision, image)["spec"]
                    ),
                },
                pulumi.ResourceOptions(parent=self, depends_on=[*before, backup, config]).merge(frozen),
            )

        job = migration(args.migration_revision, args.images["api"])
        after_migration = pulumi.ResourceOptions(parent=self, depends_on=[*before, job, config])
        renderers: dict[Service, Renderer] = {
            "api": m.api_deployment,
            "worker": m.worker_deployment,
            "frontend": m.frontend_deployment,
        }
        deployments: dict[Service, pulumi.Resource] = {}
        for service, render in renderers.items():
            image = pulumi.Output.from_input(args.images[service])
            manifest = render(naming, app, "{image}")
            manifest["spec"] = image.apply(functools.partial(_spec, render, naming, app))
            options = after_migration
            if service == "worker":
                # The worker takes no traffic to split: it rolls once the API has (a promotion).
                options = after_migration.merge(pulumi.ResourceOptions(depends_on=[deployments["api"]]))
            deployments[service] = apply(f"{service}-deployment", manifest, options)
            apply(f"{service}-budget", m.pod_disruption_budget(naming, service), first)
        apply("api-service", m.service(naming, "api", API_PORT), first)
        apply("frontend-service", m.service(naming, "frontend", FRONTEND_PORT), first)
        apply("api-autoscaler", m.api_autoscaler(naming, app), first)
        apply("ingress", site_ingress(naming, app), first)
        api_ingress_object = apply("api-ingress", api_ingress(naming, app), first)
        if args.canary is not None:
            self._canary(
                name,
                args,
                canary=args.canary,
                migration=migration,
                stable_job=job,
                first=first,
                api_ingress_object=api_ingress_object,
            )
        self.register_outputs({})

    def _canary(
        self,
        name: str,
        args: WorkloadsArgs,
        *,
        canary: CanaryArgs,
        migration: Callable[[str, pulumi.Input[str]], pulumi.Resource],
        stable_job: pulumi.Resource,
        first: pulumi.ResourceOptions,
        api_ingress_object: pulumi.Resource,
    ) -> None:
        """The canary's Deployment, Service, autoscaler and weighted Ingress, after its migration."""
        naming, app = args.naming, args.app
        job = stable_job
        if canary.migration_revision != args.migration_revision:
            # The canary's schema comes first; stable's code runs on it from then on.
            job = migration(canary.migration_revision, canary.image)
        image = pulumi.Output.from_input(canary.image)
        manifest = canary_deployment(naming, app, "{image}")
        manifest["spec"] = image.apply(lambda ref: canary_deployment(naming, app, ref)["spec"])
        deployment = kubernetes_object(
            f"{name}-api-canary-deployment",
            manifest,
            first.merge(pulumi.ResourceOptions(depends_on=[job])),
        )
        service = kubernetes_object(f"{name}-api-canary-service", canary_service(naming), first)
        scaling = kubernetes_object(
            f"{name}-api-canary-autoscaler", canary_autoscaler(naming, app, canary.weight), first
        )
        kubernetes_object(f"{name}-api-canary-budget", canary_budget(naming), first)
        # Traffic turns to the canary only once its pods are ready behind their Service, with its
        # autoscaler's bounds set for the new share, and only into the API's location (the API's Ingress).
        kubernetes_object(
            f"{name}-api-canary-ingress",
            canary_ingress(naming, app, canary.weight),
            first.merge(
                pulumi.ResourceOptions(depends_on=[deployment, service, scaling, api_ingress_object])
            ),
        )
