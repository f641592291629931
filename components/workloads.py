"""Workloads: the app's api, worker and frontend, their Services, scaling, budgets, network policies
and Ingress, the migration that runs behind a backup before a new schema rolls out, and the API's
Canary, through which Flagger releases it.

Images come by digest from the registry component; configuration from a
ConfigMap; secrets only from the Secret External Secrets keeps. The objects
themselves are rendered by ``infra/render/workloads/``; this component applies them
and orders them: the Deployments wait for the migration Job of the release's
revision, which waits for its backup; the worker rolls after the API has.

Pulumi and Flagger own different objects (docs/runbooks/canary.md): Pulumi the API
Deployment (Flagger's target: the release under analysis), its autoscaler, its
Ingress, the Canary and its MetricTemplates; Flagger the promoted copy
(``samokoder-api-primary``: Deployment and autoscaler), the three Services
(``samokoder-api``, ``-primary``, ``-canary``) and the canary Ingress
(infra/render/workloads/flagger_made.py). So Pulumi makes no Service named
``samokoder-api`` (Flagger points it at the promoted pods), never sets the
API Deployment's replicas (Flagger scales it to zero between releases and up
for one), and lets Flagger's scaling be.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from components.cluster_redis import ClusterRedis
from components.database import Database
from components.flagger import Flagger
from components.ingress import Ingress
from components.kube import KubernetesObject, kubernetes_object
from components.secrets import Secrets
from infra.app_contract import FRONTEND_PORT
from infra.conventions import Naming, Service
from infra.render.workloads import manifests as m
from infra.render.workloads.canary import canary, metric_templates, primary_budget
from infra.render.workloads.config import config_map
from infra.render.workloads.migrations import migration_access, migration_job, pre_migration_backup
from infra.render.workloads.network_policies import network_policies
from infra.render.workloads.routes import api_ingress, site_ingress
from infra.settings.canary import CanaryProfile
from infra.settings.monitoring import SloProfile

Renderer = Callable[[Naming, m.AppSpec, str], dict[str, Any]]


@dataclass(frozen=True)
class ReleaseArgs:
    """How the API's releases go: through Flagger, judged as the stack's settings say."""

    flagger: Flagger
    canary: CanaryProfile
    slo: SloProfile
    # Promote the API without analysis (a rollback, or a release that must go whole).
    skip_analysis: bool = False


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
    release: ReleaseArgs


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
        # Flagger reads the API's autoscaler and Ingress when it initialises the Canary
        # (pkg/canary/hpa_reconciler.go:36-44, pkg/router/ingress.go:52-55 at v1.44.0).
        scaler = apply("api-autoscaler", m.api_autoscaler(naming, app), first)
        api_route = apply("api-ingress", api_ingress(naming, app), first)
        release = self._canary(
            name, args, first.merge(pulumi.ResourceOptions(depends_on=[scaler, api_route]))
        )
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
            if service == "api":
                # Flagger's target. Its analysis settings reach Flagger before a new image does (a
                # rollback's skipAnalysis, and the next release's return to analysis); Flagger scales
                # it (pkg/canary/deployment_controller.go:150-211, 374-387 at v1.44.0), Pulumi never.
                options = after_migration.merge(
                    pulumi.ResourceOptions(depends_on=[release], ignore_changes=["spec.replicas"])
                )
            if service == "worker":
                # The worker takes no traffic to split: it rolls once the API has (a promotion).
                options = after_migration.merge(pulumi.ResourceOptions(depends_on=[deployments["api"]]))
            deployments[service] = apply(f"{service}-deployment", manifest, options)
            apply(f"{service}-budget", m.pod_disruption_budget(naming, service), first)
        # The promoted pods Flagger runs keep one serving through a drain, as the API's own do.
        apply("api-primary-budget", primary_budget(naming), first)
        apply("frontend-service", m.service(naming, "frontend", FRONTEND_PORT), first)
        apply("ingress", site_ingress(naming, app), first)
        self.register_outputs({})

    def _canary(self, name: str, args: WorkloadsArgs, first: pulumi.ResourceOptions) -> pulumi.Resource:
        """The API's Canary and the MetricTemplates it reads, once Flagger's CRDs are installed."""
        release, naming = args.release, args.naming
        with_flagger = first.merge(pulumi.ResourceOptions(depends_on=[release.flagger.release]))
        templates = [
            kubernetes_object(f"{name}-{template['metadata']['name']}", template, with_flagger)
            for template in metric_templates(naming, release.canary, release.slo)
        ]
        return kubernetes_object(
            f"{name}-api-canary",
            canary(naming, release.canary, release.slo, skip_analysis=release.skip_analysis),
            with_flagger.merge(pulumi.ResourceOptions(depends_on=[*templates, release.flagger.loadtester])),
        )
