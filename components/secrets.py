"""Secrets: the platform's Lockbox secrets and their delivery into Kubernetes by External Secrets.

Cloud side: a KMS key for Lockbox, one ``LockboxSecret`` per consumer group
(``infra/render/secrets/catalog.py``) with generated values (pulumi-random, 64
characters, regenerated when a rotation is requested) and operator-provided
ones (strength-checked in the settings), and a reader service account whose
only Lockbox grant is ``lockbox.payloadViewer`` on these secrets (plus
decrypting with their key, without which the payload cannot be read).

Cluster side: External Secrets Operator by Helm (pinned), a
``ClusterSecretStore`` for Lockbox authenticated with the reader's authorized
key, and one ``ExternalSecret`` per Kubernetes Secret the app, Grafana and
Alertmanager read.
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

from components.kms import kms_key
from components.kube import KubernetesObject, custom_resource, helm_release, kubernetes_object, namespace
from infra.conventions import EXTERNAL_SECRETS_NAMESPACE, Naming
from infra.providers.lockbox.provider import LockboxSecret
from infra.providers.yandex.connection import Connection
from infra.render import charts
from infra.render.secrets import delivery
from infra.render.secrets.catalog import GENERATED_LENGTH, Entry, Group, Target
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


class Secrets(pulumi.ComponentResource):
    lockbox_ids: dict[SecretGroup, pulumi.Output[str]]
    ages: pulumi.Output[dict[str, Any]]
    # Kubernetes Secrets exist (or are being synced) once these are created.
    external_secrets: list[KubernetesObject]

    def __init__(self, name: str, args: SecretsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("samokoder:secrets:Secrets", name, None, opts)
        self._name = name
        self._args = args
        naming = args.naming
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protect)

        key = kms_key(
            f"{name}-key",
            naming,
            folder_id=args.folder_id,
            key_name="lockbox",
            component="secrets",
            description="Encrypts the platform's Lockbox secrets",
            opts=stateful,
        )
        reader = yandex.IamServiceAccount(
            f"{name}-reader",
            name=naming.cloud("lockbox-reader"),
            folder_id=args.folder_id,
            description="External Secrets: reads the payload of the platform's Lockbox secrets, nothing else",
            opts=child,
        )
        yandex.KmsSymmetricKeyIamBinding(
            f"{name}-reader-decrypts",
            symmetric_key_id=key.id,
            role=KMS_DECRYPTER,
            members=[pulumi.Output.concat("serviceAccount:", reader.id)],
            opts=child,
        )
        connection = Connection(
            auth=args.lockbox.auth, key_file=args.lockbox.key_file, endpoint=args.lockbox.endpoint
        )
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
                opts=stateful,
            )
            for group in args.groups
        }
        self.lockbox_ids = {group: secret.id for group, secret in secrets.items()}

        self.external_secrets = self._delivery(reader, secrets, args.lockbox.endpoint)
        self.ages = pulumi.Output.all(
            **{group: secret.created_at for group, secret in secrets.items()}
        ).apply(self._ages)
        self.register_outputs({"lockbox_ids": self.lockbox_ids, "ages": self.ages})

    def _fernet_key(self, group: Group, entry: Entry, stamp: str) -> pulumi.Output[str]:
        """32 random bytes as URL-safe base64 with its padding: what Fernet(key) accepts."""
        key = random.RandomId(
            f"{self._name}-{group.group}-{entry.key.lower().replace('_', '-')}",
            byte_length=FERNET_KEY_BYTES,
            keepers={"rotation": stamp},
            opts=pulumi.ResourceOptions(
                parent=self, additional_secret_outputs=["b64_url", "b64_std", "hex", "dec"]
            ),
        )
        # The provider's b64_url drops the padding; 32 bytes need exactly one '='.
        return pulumi.Output.secret(key.b64_url.apply(lambda text: f"{text}="))

    def _payload(self, group: Group) -> dict[str, pulumi.Input[str]]:
        args = self._args
        stamp = rotation_stamp(args.rotation, group.group)
        payload: dict[str, pulumi.Input[str]] = {}
        for entry in group.entries:
            if entry.source == "plain":
                payload[entry.key] = entry.origin
            elif entry.source == "fernet":
                payload[entry.key] = self._fernet_key(group, entry, stamp)
            elif entry.source == "generated":
                value = random.RandomPassword(
                    f"{self._name}-{group.group}-{entry.key.lower().replace('_', '-')}",
                    length=GENERATED_LENGTH,
                    special=False,
                    # A new rotation stamp regenerates the value, and so a new Lockbox version.
                    keepers={"rotation": stamp},
                    opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["result"]),
                )
                payload[entry.key] = pulumi.Output.secret(value.result)
            else:
                provided = args.provided.value(entry.origin)
                if provided is None:
                    # The settings refuse this outside synth; synth says what `up` would need.
                    pulumi.log.warn(
                        f"samokoder:secrets.{entry.origin} is not set: pulumi up would stop here "
                        f"(pulumi config set --secret --path samokoder:secrets.{entry.origin})"
                    )
                    provided = NOT_SET
                payload[entry.key] = pulumi.Output.secret(provided)
        return payload

    def _delivery(
        self, reader: yandex.IamServiceAccount, secrets: Mapping[SecretGroup, LockboxSecret], endpoint: str
    ) -> list[KubernetesObject]:
        name, naming = self._name, self._args.naming
        child = pulumi.ResourceOptions(parent=self)
        home = namespace(
            f"{name}-operator-namespace",
            EXTERNAL_SECRETS_NAMESPACE,
            naming.k8s_labels("external-secrets", "secrets"),
            "restricted",
            child,
        )
        in_home = pulumi.ResourceOptions(parent=self, depends_on=[home])
        release = helm_release(
            f"{name}-operator",
            charts.EXTERNAL_SECRETS,
            EXTERNAL_SECRETS_NAMESPACE,
            {"installCRDs": True},
            in_home,
        )
        authorized_key = yandex.IamServiceAccountKey(
            f"{name}-reader-key",
            service_account_id=reader.id,
            description="External Secrets reads Lockbox with this key",
            key_algorithm="RSA_2048",
            opts=child,
        )
        # The authorized-key JSON `yc iam key create` writes, which the provider expects.
        key_json = pulumi.Output.all(
            id=authorized_key.id,
            service_account_id=reader.id,
            created_at=authorized_key.created_at,
            public_key=authorized_key.public_key,
            private_key=authorized_key.private_key,
        ).apply(lambda parts: json.dumps({**parts, "key_algorithm": "RSA_2048"}, sort_keys=True))
        key_secret = kubernetes_object(
            f"{name}-reader-key-secret",
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {
                    "name": delivery.READER_KEY_SECRET,
                    "namespace": EXTERNAL_SECRETS_NAMESPACE,
                    "labels": naming.k8s_labels(delivery.READER_KEY_SECRET, "secrets"),
                },
                "stringData": {delivery.READER_KEY_FIELD: key_json.apply(pulumi.Output.secret)},
            },
            in_home,
        )
        namespaces = sorted({target.namespace for group in self._args.groups for target in group.targets})
        store = custom_resource(
            f"{name}-store",
            delivery.cluster_secret_store(naming, namespaces, endpoint),
            pulumi.ResourceOptions(parent=self, depends_on=[release, key_secret]),
        )
        after_store = pulumi.ResourceOptions(parent=self, depends_on=[store, *self._args.namespaces])
        created = []
        for group in self._args.groups:
            lockbox = secrets[group.group]
            for target in group.targets:
                manifest = delivery.external_secret(naming, target, "")
                # The Lockbox id exists only once the secret is created.
                manifest["spec"] = lockbox.id.apply(functools.partial(_spec, naming, target))
                created.append(custom_resource(f"{name}-{target.name}", manifest, after_store))
        return created

    def _ages(self, created: Mapping[str, str | None]) -> dict[str, Any]:
        """Per group: when it was last rotated (or created), and when rotation is due.

        No age in days: the stack's outputs (and synth's outputs.json) stay the same from
        day to day; `rotate-secrets` computes the age when it runs.
        """
        ages: dict[str, Any] = {}
        for group in self._args.groups:
            requested = self._args.rotation.get(group.group)
            stamp = requested or _parse(created.get(group.group))
            if stamp is None:
                ages[group.group] = {"rotated_at": None, "rotate_by": None}
                continue
            ages[group.group] = {
                "rotated_at": stamp.isoformat(),
                "rotate_by": (stamp + timedelta(days=self._args.rotation_days)).date().isoformat(),
            }
        return ages


def _spec(naming: Naming, target: Target, lockbox_id: str) -> dict[str, Any]:
    spec: dict[str, Any] = delivery.external_secret(naming, target, lockbox_id)["spec"]
    return spec


def _parse(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
