"""Workloads: the app's api, worker and frontend, their Services, scaling, budgets, network policies
and Ingress, the migration that runs behind a backup before a new schema rolls out, and the API's
Canary, through which Flagger releases it.

The Deployments wait for the migration Job of the release's revision, which waits for its
backup; the worker rolls after the API has.

Pulumi and Flagger own different objects (docs/runbooks/canary.md): Pulumi the API Deployment
(Flagger's target), its autoscaler, its Ingress, the Canary and its MetricTemplates; Flagger the
promoted copy (``samokoder-api-primary``), the three Services and the canary Ingress
(infra/render/workloads/flagger_made.py). So Pulumi makes no Service named ``samokoder-api``
(Flagger points it at the promoted pods), never sets the API Deployment's replicas (Flagger scales
it to zero between releases and up for one), and lets Flagger's scaling be.
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
from components.kube import Component, KubernetesObject, kubernetes_object, spec_after
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


class Workloads(Component):
    def __init__(self, name: str, args: WorkloadsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("samokoder:workloads:Workloads", name, None, opts)
        self._name = name
        naming, app = args.naming, args.app
        before = [
            args.namespace,
            args.database,
            args.ingress.release,
            *args.secrets.external_secrets,
            args.redis,
        ]
        apply = self._apply
        config = apply("config", config_map(naming, app), *before)
        for policy in network_policies(naming, app.database):
            apply(f"policy-{policy['metadata']['name']}", policy, *before)
        for access in migration_access(naming):
            apply(f"migrate-{access['kind'].lower()}", access, *before)

        # One Backup and one Job per revision; once done they are history, so a later
        # release with the same revision leaves them as they are.
        revision, frozen = args.migration_revision, ["spec"]
        backup = pre_migration_backup(naming, revision, app.database)
        backup_done = apply(f"backup-{revision}", backup, *before, ignore_changes=frozen)
        job = spec_after(
            functools.partial(migration_job, naming, revision), args.images["api"], "{api image}"
        )
        migrated = apply(f"migrate-{revision}", job, *before, backup_done, config, ignore_changes=frozen)
        # Flagger reads the API's autoscaler and Ingress when it initialises the Canary
        # (pkg/canary/hpa_reconciler.go:36-44, pkg/router/ingress.go:52-55 at v1.44.0).
        scaler = apply("api-autoscaler", m.api_autoscaler(naming, app), *before)
        api_route = apply("api-ingress", api_ingress(naming, app), *before)
        release = self._canary(args, *before, scaler, api_route)
        renderers: dict[Service, Renderer] = {
            "api": m.api_deployment,
            "worker": m.worker_deployment,
            "frontend": m.frontend_deployment,
        }
        deployments: dict[Service, pulumi.Resource] = {}
        for service, render in renderers.items():
            manifest = spec_after(functools.partial(render, naming, app), args.images[service], "{image}")
            after: list[pulumi.Resource] = [*before, migrated, config]
            ignore: list[str] | None = None
            if service == "api":
                # Flagger's target. Its analysis settings reach Flagger before a new image does (a
                # rollback's skipAnalysis, and the next release's return to analysis); Flagger scales
                # it (pkg/canary/deployment_controller.go:150-211, 374-387 at v1.44.0), Pulumi never.
                after, ignore = [*after, release], ["spec.replicas"]
            if service == "worker":
                # The worker takes no traffic to split: it rolls once the API has (a promotion).
                after.append(deployments["api"])
            deployments[service] = apply(f"{service}-deployment", manifest, *after, ignore_changes=ignore)
            apply(f"{service}-budget", m.pod_disruption_budget(naming, service), *before)
        # The promoted pods Flagger runs keep one serving through a drain, as the API's own do.
        apply("api-primary-budget", primary_budget(naming), *before)
        apply("frontend-service", m.service(naming, "frontend", FRONTEND_PORT), *before)
        apply("ingress", site_ingress(naming, app), *before)
        self.register_outputs({})

    def _apply(
        self,
        resource_name: str,
        manifest: dict[str, Any],
        *after: pulumi.Resource,
        ignore_changes: list[str] | None = None,
    ) -> pulumi.Resource:
        return kubernetes_object(
            f"{self._name}-{resource_name}", manifest, self.opts(*after, ignore_changes=ignore_changes)
        )

    def _canary(self, args: WorkloadsArgs, *after: pulumi.Resource) -> pulumi.Resource:
        """The API's Canary and the MetricTemplates it reads, once Flagger's CRDs are installed."""
        release, naming = args.release, args.naming
        templates = [
            self._apply(template["metadata"]["name"], template, *after, release.flagger.release)
            for template in metric_templates(naming, release.canary, release.slo)
        ]
        canary_manifest = canary(naming, release.canary, release.slo, skip_analysis=release.skip_analysis)
        extra = [release.flagger.release, *templates, release.flagger.loadtester]
        return self._apply("api-canary", canary_manifest, *after, *extra)
