"""External Secrets objects: CRD-valid, one data item per delivered key, templates only where needed."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from infra.conventions import APP_NAMESPACE, EXTERNAL_SECRETS_NAMESPACE, MONITORING_NAMESPACE, Naming
from infra.render.secrets import delivery
from infra.render.secrets.catalog import Target, catalog
from infra.settings import load_settings
from tests.conftest import STACKS, stack_file_values
from tests.crd_schemas import crd_problems

NAMING = Naming("unit")
LOCKBOX_ID = "e6q0000000000000000a"
ENDPOINT = "api.cloud.yandex.net:443"


def targets(stack: str) -> list[Target]:
    settings = load_settings(stack, stack_file_values(stack), offline=True)
    return [t for g in catalog(settings) for t in g.targets]


def duration(text: str) -> timedelta:
    match = re.fullmatch(r"([0-9]+)([smh])", text)
    assert match, text
    return timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours"}[match[2]]: int(match[1])})


def store() -> dict[str, Any]:
    return delivery.cluster_secret_store(NAMING, [MONITORING_NAMESPACE, APP_NAMESPACE], ENDPOINT)


def test_the_store_is_valid_cluster_wide_and_reads_lockbox_with_the_readers_key() -> None:
    document = store()
    assert crd_problems(document) == []
    assert "namespace" not in document["metadata"]
    lockbox = document["spec"]["provider"]["yandexlockbox"]
    assert lockbox["apiEndpoint"] == ENDPOINT
    key = lockbox["auth"]["authorizedKeySecretRef"]
    # The reader's key stays in the operator's namespace, out of reach of the app's pods.
    assert key["namespace"] == EXTERNAL_SECRETS_NAMESPACE
    assert (key["name"], key["key"]) == (delivery.READER_KEY_SECRET, delivery.READER_KEY_FIELD)


@pytest.mark.parametrize(
    "namespaces", [["samokoder", "monitoring"], ["monitoring", "samokoder"]], ids=["one order", "other"]
)
def test_the_store_serves_exactly_the_namespaces_it_is_given_in_a_stable_order(namespaces: list[str]) -> None:
    document = delivery.cluster_secret_store(NAMING, namespaces, ENDPOINT)
    assert document["spec"]["conditions"] == [{"namespaces": ["monitoring", "samokoder"]}]


@pytest.mark.parametrize("stack", STACKS)
def test_every_external_secret_is_valid_for_its_crd(stack: str) -> None:
    for t in targets(stack):
        assert crd_problems(delivery.external_secret(NAMING, t, LOCKBOX_ID)) == [], t.name


@pytest.mark.parametrize("stack", STACKS)
def test_each_delivered_key_is_read_from_the_lockbox_secret_by_its_entry(stack: str) -> None:
    for t in targets(stack):
        spec = delivery.external_secret(NAMING, t, LOCKBOX_ID)["spec"]
        read = {d["secretKey"]: (d["remoteRef"]["key"], d["remoteRef"]["property"]) for d in spec["data"]}
        assert len(read) == len(spec["data"]), t.name
        assert read == {key: (LOCKBOX_ID, entry) for key, entry in t.keys.items()}, t.name


@pytest.mark.parametrize("stack", STACKS)
def test_each_external_secret_owns_the_named_secret_in_its_namespace_through_the_store(stack: str) -> None:
    store_name = store()["metadata"]["name"]
    for t in targets(stack):
        document = delivery.external_secret(NAMING, t, LOCKBOX_ID)
        assert (document["metadata"]["name"], document["metadata"]["namespace"]) == (t.name, t.namespace)
        spec = document["spec"]
        assert spec["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": store_name}
        assert (spec["target"]["name"], spec["target"]["creationPolicy"]) == (t.name, "Owner")


def test_a_rotated_value_reaches_the_secrets_within_a_day_without_hammering_lockbox() -> None:
    assert timedelta(minutes=1) <= duration(delivery.REFRESH_INTERVAL) <= timedelta(days=1)


def test_a_plain_opaque_secret_gets_no_template() -> None:
    target = Target("plain", APP_NAMESPACE, {"A": "A"})
    assert "template" not in delivery.external_secret(NAMING, target, LOCKBOX_ID)["spec"]["target"]


@pytest.mark.parametrize(
    "target",
    [
        Target("typed", APP_NAMESPACE, {"username": "U", "password": "P"}, type="kubernetes.io/basic-auth"),
        Target("templated", APP_NAMESPACE, {"A": "A"}, templates={"URL": "x://{{ .A }}"}),
    ],
    ids=["typed", "templated"],
)
def test_a_typed_or_templated_secret_keeps_its_mapped_keys_beside_the_templated_ones(target: Target) -> None:
    template = delivery.external_secret(NAMING, target, LOCKBOX_ID)["spec"]["target"]["template"]
    assert template["engineVersion"] == "v2"
    assert template["type"] == target.type
    # Merge: without it the template would replace the mapped keys.
    assert template["mergePolicy"] == "Merge"
    assert template["data"] == target.templates


def test_the_same_target_renders_the_same_object_whatever_the_order_of_its_keys() -> None:
    forward = Target("t", APP_NAMESPACE, {"A": "1", "B": "2", "C": "3"})
    backward = Target("t", APP_NAMESPACE, {"C": "3", "B": "2", "A": "1"})
    assert delivery.external_secret(NAMING, forward, LOCKBOX_ID) == delivery.external_secret(
        NAMING, backward, LOCKBOX_ID
    )
    keys = [d["secretKey"] for d in delivery.external_secret(NAMING, forward, LOCKBOX_ID)["spec"]["data"]]
    assert keys == sorted(keys)
