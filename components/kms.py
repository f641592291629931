"""The one way the platform makes a KMS key (AES-256, rotated yearly) and lets a service account use one."""

from __future__ import annotations

import pulumi
import pulumi_yandex as yandex

from infra.conventions import Naming

# Yandex KMS rotates the key version; data encrypted earlier stays readable.
ROTATION_PERIOD = "8760h"


def kms_key(
    resource_name: str,
    naming: Naming,
    *,
    folder_id: str,
    key_name: str,
    component: str,
    description: str,
    opts: pulumi.ResourceOptions,
) -> yandex.KmsSymmetricKey:
    return yandex.KmsSymmetricKey(
        resource_name,
        name=naming.cloud(key_name),
        folder_id=folder_id,
        description=description,
        default_algorithm="AES_256",
        rotation_period=ROTATION_PERIOD,
        labels=naming.cloud_labels(component),
        opts=opts,
    )


def member(account_id: pulumi.Input[str]) -> pulumi.Output[str]:
    return pulumi.Output.concat("serviceAccount:", account_id)


def key_user(
    resource_name: str,
    key: yandex.KmsSymmetricKey,
    role: str,
    account: yandex.IamServiceAccount,
    opts: pulumi.ResourceOptions,
) -> yandex.KmsSymmetricKeyIamBinding:
    """``account`` may use ``key`` in ``role``: a binding on the key, not a folder role."""
    return yandex.KmsSymmetricKeyIamBinding(
        resource_name, symmetric_key_id=key.id, role=role, members=[member(account.id)], opts=opts
    )
