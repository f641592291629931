"""Secrets: the platform's Lockbox secrets and their delivery into Kubernetes by External Secrets.

One ``LockboxSecret`` per consumer group (``infra/render/secrets/catalog.py``),
generated values regenerated when a rotation is requested, operator-provided
ones strength-checked in the settings. The reader service account's only
Lockbox grant is ``lockbox.payloadViewer`` on these secrets, plus decrypting
with their key, without which the payload cannot be read. External Secrets
reads Lockbox with the reader's authorized key and keeps one ``ExternalSecret``
per Kubernetes Secret the app, Grafana and Alertmanager read.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import pulumi
import pulumi_random as random
import pulumi_yandex as yandex

from components.kms import key_user, kms_key
from components.kube import Component, KubernetesObject, custom_resource, installation, secret, spec_after
from infra.conventions import EXTERNAL_SECRETS_NAMESPACE, Naming
from infra.providers.lockbox.provider import LockboxSecret
from infra.providers.yandex.connection import Connection
from infra.render import charts
from infra.render.secrets import delivery
from infra.render.secrets.catalog import GENERATED_LENGTH, Entry, Group
from infra.render.secrets.rotation import rotation_stamp
from infra.settings.secrets import LockboxSettings, ProvidedSecrets, SecretGroup

KMS_DECRYPTER: Final = "kms.keys.decrypter"
# What a provided secret holds in synth when the stack file does not have it.
NOT_SET: Final = "[not set]"
FERNET_KEY_BYTES: Final = 32


@dataclass(frozen=True)
class SecretsArgs:
    naming: Naming
    folder_id: str
    groups: tuple[Group, ...]
    provided: ProvidedSecrets
    lockbox: LockboxSettings
    # When each group was last asked to rotate (samokoder:rotation).
    rotation: Mapping[SecretGroup, datetime]
    rotation_days: int
    protect: bool
    # Synth: a provided secret that is not set becomes a warning, not an error.
    offline: bool
    # Namespaces the ExternalSecrets are created in.
    namespaces: Sequence[KubernetesObject]


class Secrets(Component):
    lockbox_ids: dict[SecretGroup, pulumi.Output[str]]
    ages: pulumi.Output[dict[str, Any]]
    # Kubernetes Secrets exist (or are being synced) once these are created.
    external_secrets: list[KubernetesObject]

    def __init__(self, name: str, args: SecretsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("samokoder:secrets:Secrets", name, None, opts)
        self._name = name
        self._args = args
        naming = args.naming
        key = kms_key(
            f"{name}-key",
            naming,
            folder_id=args.folder_id,
            key_name="lockbox",
            component="secrets",
            description="Encrypts the platform's Lockbox secrets",
            opts=self.opts(protect=args.protect),
        )
        reader = yandex.IamServiceAccount(
            f"{name}-reader",
            name=naming.cloud("lockbox-reader"),
            folder_id=args.folder_id,
            description="External Secrets: reads the payload of the platform's Lockbox secrets, nothing else",
            opts=self.opts(),
        )
        key_user(f"{name}-reader-decrypts", key, KMS_DECRYPTER, reader, self.opts())
        lockbox = args.lockbox
        connection = Connection(auth=lockbox.auth, key_file=lockbox.key_file, endpoint=lockbox.endpoint)
        secrets = {
            group.group: LockboxSecret(
                f"{name}-{group.group}",
                connection=connection,
                folder_id=args.folder_id,
                name=group.lockbox_name(naming),
                description=group.description,
                labels=naming.cloud_labels("secrets"),
                kms_key_id=key.id,
                payload=self._payload(group),
                payload_viewers=[reader.id],
                deletion_protection=args.protect,
                rotated_at=stamp.isoformat() if (stamp := args.rotation.get(group.group)) else None,
                opts=self.opts(protect=args.protect),
            )
            for group in args.groups
        }
        self.lockbox_ids = {group: secret.id for group, secret in secrets.items()}
        self.external_secrets = self._delivery(reader, secrets, lockbox.endpoint)
        created_at = {group: secret.created_at for group, secret in secrets.items()}
        self.ages = pulumi.Output.all(**created_at).apply(self._ages)
        self.outputs("lockbox_ids", "ages")

    def _random_name(self, group: Group, entry: Entry) -> str:
        return f"{self._name}-{group.group}-{entry.key.lower().replace('_', '-')}"

    def _payload(self, group: Group) -> dict[str, pulumi.Input[str]]:
        # A new rotation stamp regenerates the values, and so a new Lockbox version.
        keepers = {"rotation": rotation_stamp(self._args.rotation, group.group)}
        payload: dict[str, pulumi.Input[str]] = {}
        for entry in group.entries:
            if entry.source == "plain":
                payload[entry.key] = entry.origin
            elif entry.source == "fernet":
                key = random.RandomId(
                    self._random_name(group, entry),
                    byte_length=FERNET_KEY_BYTES,
                    keepers=keepers,
                    opts=pulumi.ResourceOptions(
                        parent=self, additional_secret_outputs=["b64_url", "b64_std", "hex", "dec"]
                    ),
                )
                # What Fernet(key) accepts: URL-safe base64 with its padding, which the
                # provider's b64_url drops; 32 bytes need exactly one '='.
                payload[entry.key] = pulumi.Output.secret(key.b64_url.apply(lambda text: f"{text}="))
            elif entry.source == "generated":
                value = random.RandomPassword(
                    self._random_name(group, entry),
                    length=GENERATED_LENGTH,
                    special=False,
                    keepers=keepers,
                    opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["result"]),
                )
                payload[entry.key] = pulumi.Output.secret(value.result)
            else:
                payload[entry.key] = pulumi.Output.secret(self._provided(entry.origin))
        return payload

    def _provided(self, origin: str) -> str:
        provided = self._args.provided.value(origin)
        if provided is None:
            # The settings refuse this outside synth; synth says what `up` would need.
            pulumi.log.warn(
                f"samokoder:secrets.{origin} is not set: pulumi up would stop here "
                f"(pulumi config set --secret --path samokoder:secrets.{origin})"
            )
            return NOT_SET
        return provided

    def _delivery(
        self, reader: yandex.IamServiceAccount, secrets: Mapping[SecretGroup, LockboxSecret], endpoint: str
    ) -> list[KubernetesObject]:
        name, naming = self._name, self._args.naming
        home, release = installation(
            self,
            f"{name}-operator",
            charts.EXTERNAL_SECRETS,
            {"installCRDs": True},
            home=EXTERNAL_SECRETS_NAMESPACE,
            labels=naming.k8s_labels("external-secrets", "secrets"),
            pod_security="restricted",
        )
        authorized_key = yandex.IamServiceAccountKey(
            f"{name}-reader-key",
            service_account_id=reader.id,
            description="External Secrets reads Lockbox with this key",
            key_algorithm="RSA_2048",
            opts=self.opts(),
        )
        # The authorized-key JSON `yc iam key create` writes, which the provider expects.
        key_json = pulumi.Output.all(
            id=authorized_key.id,
            service_account_id=reader.id,
            created_at=authorized_key.created_at,
            public_key=authorized_key.public_key,
            private_key=authorized_key.private_key,
        ).apply(lambda parts: json.dumps({**parts, "key_algorithm": "RSA_2048"}, sort_keys=True))
        key_secret = secret(
            f"{name}-reader-key-secret",
            {
                "name": delivery.READER_KEY_SECRET,
                "namespace": EXTERNAL_SECRETS_NAMESPACE,
                "labels": naming.k8s_labels(delivery.READER_KEY_SECRET, "secrets"),
            },
            {delivery.READER_KEY_FIELD: key_json.apply(pulumi.Output.secret)},
            self.opts(home),
        )
        namespaces = sorted({target.namespace for group in self._args.groups for target in group.targets})
        store_manifest = delivery.cluster_secret_store(naming, namespaces, endpoint)
        store = custom_resource(f"{name}-store", store_manifest, self.opts(release, key_secret))
        created = []
        for group in self._args.groups:
            for target in group.targets:
                # The Lockbox id exists only once the secret is created.
                render = functools.partial(delivery.external_secret, naming, target)
                manifest = spec_after(render, secrets[group.group].id, "")
                options = self.opts(store, *self._args.namespaces)
                created.append(custom_resource(f"{name}-{target.name}", manifest, options))
        return created

    def _ages(self, created: Mapping[str, str | None]) -> dict[str, Any]:
        """Per group: when it was last rotated (or created), and when rotation is due.

        No age in days: the stack's outputs (and synth's outputs.json) stay the same from
        day to day; `rotate-secrets` computes the age when it runs.
        """
        ages: dict[str, Any] = {}
        for group in self._args.groups:
            created_at = created.get(group.group)
            stamp = self._args.rotation.get(group.group) or (
                datetime.fromisoformat(created_at.replace("Z", "+00:00")) if created_at else None
            )
            due = stamp + timedelta(days=self._args.rotation_days) if stamp else None
            ages[group.group] = {
                "rotated_at": stamp.isoformat() if stamp else None,
                "rotate_by": due.date().isoformat() if due else None,
            }
        return ages
