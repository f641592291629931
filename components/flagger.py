"""Flagger: the controller that releases the API through its Canary, and its smoke check's loadtester.

Installed once per cluster, after ingress-nginx (whose Ingresses it copies)
and kube-prometheus-stack (whose PodMonitor CRD its chart uses, and whose
Prometheus it reads). The Canary and its MetricTemplates are the app's
(components/workloads.py), applied once this release has installed Flagger's CRDs.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.ingress import Ingress
from components.kube import Component, HelmRelease, helm_release, installation, kubernetes_object
from components.monitoring import Monitoring
from infra.conventions import FLAGGER_NAMESPACE, Naming, pod_selector, workload_name
from infra.render import charts, flagger


@dataclass(frozen=True)
class FlaggerArgs:
    naming: Naming
    ingress: Ingress
    monitoring: Monitoring


class Flagger(Component):
    # The Canary and MetricTemplates need its CRDs; the Canary's webhook, the loadtester.
    release: HelmRelease
    loadtester: HelmRelease

    def __init__(self, name: str, args: FlaggerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("samokoder:cluster:Flagger", name, None, opts)
        home, self.release = installation(
            self,
            name,
            charts.FLAGGER,
            flagger.values(),
            home=FLAGGER_NAMESPACE,
            labels=args.naming.k8s_labels("flagger", "delivery"),
            pod_security="restricted",
            after=[args.ingress.release, args.monitoring.release],
        )
        self.loadtester = helm_release(
            f"{name}-loadtester",
            charts.FLAGGER_LOADTESTER,
            FLAGGER_NAMESPACE,
            flagger.loadtester_values(),
            self.opts(home),
            release_name=flagger.LOADTESTER_RELEASE,
        )
        policy = flagger.loadtester_policy(args.naming, pod_selector(workload_name("api")))
        kubernetes_object(f"{name}-loadtester-policy", policy, self.opts(home))
        self.register_outputs({"release_status": self.release.status})
