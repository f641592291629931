"""Flagger: the controller that releases the API through its Canary, and its smoke check's loadtester.

Installed once per cluster in its own namespace, after ingress-nginx (whose
Ingresses it copies) and kube-prometheus-stack (whose PodMonitor CRD its
chart uses, and whose Prometheus it reads). The Canary and its
MetricTemplates are the app's (components/workloads.py), applied once this
release has installed Flagger's CRDs.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.ingress import Ingress
from components.kube import HelmRelease, helm_release, kubernetes_object, namespace
from components.monitoring import Monitoring
from infra.conventions import FLAGGER_NAMESPACE, Naming, pod_selector, workload_name
from infra.render import charts, flagger


@dataclass(frozen=True)
class FlaggerArgs:
    naming: Naming
    ingress: Ingress
    monitoring: Monitoring


class Flagger(pulumi.ComponentResource):
    # The Canary and MetricTemplates need its CRDs; the Canary's webhook, the loadtester.
    release: HelmRelease
    loadtester: HelmRelease

    def __init__(self, name: str, args: FlaggerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("samokoder:cluster:Flagger", name, None, opts)
        home = namespace(
            f"{name}-namespace",
            FLAGGER_NAMESPACE,
            args.naming.k8s_labels("flagger", "delivery"),
            "restricted",
            pulumi.ResourceOptions(parent=self),
        )
        after = [home, args.ingress.release, args.monitoring.release]
        self.release = helm_release(
            name,
            charts.FLAGGER,
            FLAGGER_NAMESPACE,
            flagger.values(),
            pulumi.ResourceOptions(parent=self, depends_on=after),
        )
        self.loadtester = helm_release(
            f"{name}-loadtester",
            charts.FLAGGER_LOADTESTER,
            FLAGGER_NAMESPACE,
            flagger.loadtester_values(),
            pulumi.ResourceOptions(parent=self, depends_on=[home]),
            release_name=flagger.LOADTESTER_RELEASE,
        )
        kubernetes_object(
            f"{name}-loadtester-policy",
            flagger.loadtester_policy(args.naming, pod_selector(workload_name("api"))),
            pulumi.ResourceOptions(parent=self, depends_on=[home]),
        )
        self.register_outputs({"release_status": self.release.status})
