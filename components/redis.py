"""Managed Redis 7.2 (the worker's arq queue), TLS only, one host per zone, a generated password.

Used once the app reads its Redis connection from a URL (settings:
``redis.app_reads_redis_url``); until then ``components/cluster_redis.py``
runs Redis in the cluster, which the app can use as it is.

The cluster is ``ManagedRedisCluster`` (``infra/providers/redis/``), not
pulumi-yandex's ``MdbRedisCluster``: that one (terraform-provider-yandex
v0.71) sends no config for 7.2, so neither the password nor the eviction
policy would reach the cluster.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import pulumi
import pulumi_random as random

from infra.conventions import REDIS_TLS_PORT, Naming
from infra.providers.redis.provider import ManagedRedisCluster
from infra.providers.yandex.connection import Connection
from infra.settings.workloads import ManagedRedisProfile

VERSION: Final = "7.2"
PASSWORD_LENGTH: Final = 64
# A queue must not lose jobs to eviction.
MAXMEMORY_POLICY: Final = "NOEVICTION"


@dataclass(frozen=True)
class ManagedRedisArgs:
    naming: Naming
    folder_id: str
    network_id: pulumi.Input[str]
    # zone -> subnet id; one host in each
    subnets: Mapping[str, pulumi.Input[str]]
    profile: ManagedRedisProfile
    production: bool
    protect: bool
    # The app group's rotation stamp: the password rotates with the app's keys.
    rotation: str
    # How the provider reaches the Managed Redis API (the stack's Yandex Cloud API auth).
    connection: Connection


class ManagedRedis(pulumi.ComponentResource):
    host: pulumi.Output[str]
    password: pulumi.Output[str]
    port = REDIS_TLS_PORT
    tls = True

    def __init__(self, name: str, args: ManagedRedisArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("samokoder:redis:Redis", name, None, opts)
        password = random.RandomPassword(
            f"{name}-password",
            length=PASSWORD_LENGTH,
            special=False,
            keepers={"rotation": args.rotation},
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["result"]),
        )
        cluster = ManagedRedisCluster(
            name,
            connection=args.connection,
            folder_id=args.folder_id,
            name=args.naming.cloud("redis"),
            environment="PRODUCTION" if args.production else "PRESTABLE",
            network_id=args.network_id,
            version=VERSION,
            password=password.result,
            maxmemory_policy=MAXMEMORY_POLICY,
            resource_preset_id=args.profile.resource_preset_id,
            disk_size_gb=args.profile.disk_size_gb,
            disk_type_id=args.profile.disk_type_id,
            hosts=[{"zone": zone, "subnet_id": subnet} for zone, subnet in args.subnets.items()],
            tls_enabled=True,
            deletion_protection=args.protect,
            labels=args.naming.cloud_labels("redis"),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        # The master's stable name, which follows a failover.
        self.host = cluster.id.apply(lambda cluster_id: f"c-{cluster_id}.rw.mdb.yandexcloud.net")
        self.password = pulumi.Output.secret(password.result)
        self.register_outputs({"host": self.host})
