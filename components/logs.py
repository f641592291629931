"""Logs: Loki in the monitoring namespace, its chunks and index in the stack's own encrypted bucket.

The log writer may use this bucket and this KMS key and nothing else; its static access key
reaches Loki only as a Kubernetes Secret. Loki's compactor enforces the stack's retention, the
bucket expires chunks a little later as a backstop. Loki's ruler evaluates the log-based alerts
and sends them to the monitoring stack's Alertmanager; Grafana reads Loki as a data source
(infra/render/monitoring/stack.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import pulumi
import pulumi_yandex as yandex

from components.encrypted_bucket import BucketSpec, encrypted_bucket
from components.kube import Component, helm_release, kubernetes_object, secret
from components.monitoring import Monitoring
from infra.conventions import LOKI_RELEASE, MONITORING_NAMESPACE, Naming
from infra.render import charts
from infra.render import logs as render
from infra.settings.logs import LogsProfile

# What the compactor deletes stays recoverable this long (versioning), then is gone for good:
# short, since a retention is also a promise to forget.
NONCURRENT_VERSION_DAYS: Final = 3


@dataclass(frozen=True)
class LogsArgs:
    naming: Naming
    folder_id: str
    profile: LogsProfile
    protect: bool
    # Its namespace, and its Alertmanager the ruler sends to.
    monitoring: Monitoring


class Logs(Component):
    bucket: pulumi.Output[str]

    def __init__(self, name: str, args: LogsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("samokoder:logs:Logs", name, None, opts)
        self._name = name
        bucket, access_key = self._storage(args)
        naming, namespace = args.naming, args.monitoring.namespace
        credentials = secret(
            f"{name}-storage-credentials",
            render.storage_secret_metadata(naming),
            {
                render.ACCESS_KEY_ID_ENV: access_key.access_key,
                render.SECRET_ACCESS_KEY_ENV: access_key.secret_key.apply(pulumi.Output.secret),
            },
            self.opts(namespace),
        )
        rules = kubernetes_object(f"{name}-rules", render.rules_config_map(naming), self.opts(namespace))
        kubernetes_object(
            f"{name}-network-policy", render.network_policy_manifest(naming), self.opts(namespace)
        )
        helm_release(
            f"{name}-loki",
            charts.LOKI,
            MONITORING_NAMESPACE,
            bucket.bucket.apply(lambda known: render.chart_values(args.profile, known)),
            self.opts(namespace, args.monitoring.release, credentials, rules),
            release_name=LOKI_RELEASE,
        )
        self.bucket = bucket.bucket
        self.outputs("bucket")

    def _storage(
        self, args: LogsArgs
    ) -> tuple[yandex.StorageBucket, yandex.IamServiceAccountStaticAccessKey]:
        expiry = args.profile.retention_days + render.BACKSTOP_DAYS
        # The backstop: chunks the compactor failed to delete go a week after the retention.
        backstop = yandex.StorageBucketLifecycleRuleArgs(
            id="expire-chunks-after-retention",
            enabled=True,
            prefix=render.CHUNKS_PREFIX,
            expiration=yandex.StorageBucketLifecycleRuleExpirationArgs(days=expiry),
        )
        spec = BucketSpec(
            resources=self._name,
            bucket_resource=f"{self._name}-bucket",
            bucket=args.naming.cloud("logs"),
            key_name="logs",
            component="logs",
            key_description="Encrypts the platform's logs in Object Storage",
            writer="logs-writer",
            writer_description="Loki's chunks and index in its bucket; no folder role",
            access_description="Loki in the monitoring namespace",
            noncurrent_days=NONCURRENT_VERSION_DAYS,
            rules=(backstop,),
        )
        return encrypted_bucket(self, spec, args.naming, args.folder_id, protect=args.protect)
