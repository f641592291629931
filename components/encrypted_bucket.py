"""An Object Storage bucket with a KMS key of its own and one service account that may use both.

The database's backups and Loki's chunks are stored alike: the writer has no folder role, only an
ACL grant on its bucket and the key's encrypterDecrypter binding, so its static access key reaches
no other bucket; the bucket encrypts every object with the key by default, keeps overwritten and
deleted objects as noncurrent versions for ``noncurrent_days``, and aborts stalled uploads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import pulumi_yandex as yandex

from components.kms import key_user, kms_key
from components.kube import Component
from infra.conventions import Naming

KMS_ROLE: Final = "kms.keys.encrypterDecrypter"
ABORT_UPLOADS_AFTER_DAYS: Final = 2
_EncryptByDefault = (
    yandex.StorageBucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs
)


@dataclass(frozen=True)
class BucketSpec:
    """One encrypted bucket: the Pulumi names of its resources, their cloud names and descriptions."""

    # Pulumi resource names: ``<resources>-key``, ``-writer``, ``-key-use``, ``-access-key``, and the
    # bucket's own (kept as each component first named them, so no stack replaces a bucket).
    resources: str
    bucket_resource: str
    bucket: str
    key_name: str
    component: str
    key_description: str
    writer: str
    writer_description: str
    access_description: str
    noncurrent_days: int
    # Lifecycle rules of the bucket's own (e.g. an expiry), before the two every bucket has.
    rules: Sequence[yandex.StorageBucketLifecycleRuleArgs] = field(default_factory=tuple)


def encrypted_bucket(
    owner: Component, spec: BucketSpec, naming: Naming, folder_id: str, *, protect: bool
) -> tuple[yandex.StorageBucket, yandex.IamServiceAccountStaticAccessKey]:
    """The bucket and the writer's static access key, children of ``owner``."""
    key = kms_key(
        f"{spec.resources}-key",
        naming,
        folder_id=folder_id,
        key_name=spec.key_name,
        component=spec.component,
        description=spec.key_description,
        opts=owner.opts(protect=protect),
    )
    writer = yandex.IamServiceAccount(
        f"{spec.resources}-writer",
        name=naming.cloud(spec.writer),
        folder_id=folder_id,
        description=spec.writer_description,
        opts=owner.opts(),
    )
    # Objects are encrypted with this key: the writer must use it, and only it.
    key_use = key_user(f"{spec.resources}-key-use", key, KMS_ROLE, writer, owner.opts())
    access_key = yandex.IamServiceAccountStaticAccessKey(
        f"{spec.resources}-access-key",
        service_account_id=writer.id,
        description=spec.access_description,
        opts=owner.opts(),
    )
    bucket = yandex.StorageBucket(
        spec.bucket_resource,
        bucket=spec.bucket,
        grants=[
            yandex.StorageBucketGrantArgs(type="CanonicalUser", id=writer.id, permissions=["READ", "WRITE"])
        ],
        versioning=yandex.StorageBucketVersioningArgs(enabled=True),
        server_side_encryption_configuration=yandex.StorageBucketServerSideEncryptionConfigurationArgs(
            rule=yandex.StorageBucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=_EncryptByDefault(
                    kms_master_key_id=key.id, sse_algorithm="aws:kms"
                )
            )
        ),
        lifecycle_rules=[
            *spec.rules,
            yandex.StorageBucketLifecycleRuleArgs(
                id="expire-noncurrent-versions",
                enabled=True,
                noncurrent_version_expiration=yandex.StorageBucketLifecycleRuleNoncurrentVersionExpirationArgs(
                    days=spec.noncurrent_days
                ),
            ),
            yandex.StorageBucketLifecycleRuleArgs(
                id="abort-incomplete-uploads",
                enabled=True,
                abort_incomplete_multipart_upload_days=ABORT_UPLOADS_AFTER_DAYS,
            ),
        ],
        opts=owner.opts(key_use, protect=protect),
    )
    return bucket, access_key
