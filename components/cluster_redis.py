"""Redis in the app's namespace: the queue the app can use today (no password, no TLS).

The app namespace's NetworkPolicies let only the api, the worker and the
exporter reach it; its address goes to the app's ConfigMap and to the exporter.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.kube import Component, KubernetesObject, kubernetes_object
from infra.conventions import Naming
from infra.render import redis
from infra.settings.workloads import RedisProfile


@dataclass(frozen=True)
class ClusterRedisArgs:
    naming: Naming
    profile: RedisProfile
    # The app namespace it lives in: created first.
    namespace: KubernetesObject
    protect: bool


class ClusterRedis(Component):
    host: pulumi.Output[str]
    port = redis.address()[1]

    def __init__(self, name: str, args: ClusterRedisArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("samokoder:redis:ClusterRedis", name, None, opts)
        # The StatefulSet keeps the queue's volume: protected like the other stateful resources.
        stateful_set = redis.stateful_set(args.naming, args.profile)
        kubernetes_object(
            f"{name}-statefulset", stateful_set, self.opts(args.namespace, protect=args.protect)
        )
        service = kubernetes_object(f"{name}-service", redis.service(args.naming), self.opts(args.namespace))
        host = redis.address()[0]
        self.host = pulumi.Output.from_input(service.urn).apply(lambda _: host)
        self.outputs("host")
