"""The secret catalog: each delivered key has an entry, each needed secret is asked for, none is plain."""

from __future__ import annotations

import re
from itertools import combinations
from typing import Any

import pytest

from infra import app_contract as app
from infra.conventions import (
    ALERTMANAGER_RECEIVERS_SECRET,
    APP_NAMESPACE,
    APP_SECRET,
    DB_OWNER_SECRET,
    MONITORING_NAMESPACE,
    Naming,
)
from infra.render.database import manifests as db_manifests
from infra.render.database import plan as db
from infra.render.monitoring import alertmanager as am
from infra.render.secrets.catalog import Group, Target, catalog
from infra.settings import load_settings
from infra.settings.monitoring import AlertingProfile
from infra.settings.secrets import ProvidedSecrets
from infra.settings.stack import StackSettings
from tests.conftest import STACKS, stack_file_values

TEMPLATE_VARIABLE = re.compile(r"\{\{\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
RECEIVERS: dict[str, dict[str, Any]] = {
    "telegram": {"chat_id": -1001000000009},
    "email": {
        "to": ["oncall@samokoder.example"],
        "sender": "alertmanager@samokoder.example",
        "smarthost": "smtp.yandex.ru:587",
        "username": "alertmanager@samokoder.example",
    },
    "pagerduty": {},
}
RECEIVER_SETS = [set(c) for n in (1, 2, 3) for c in combinations(RECEIVERS, n)]


def settings(stack: str) -> StackSettings:
    return load_settings(stack, stack_file_values(stack), offline=True)


def with_receivers(kinds: set[str]) -> StackSettings:
    """Staging with exactly these alert receivers, every severity routed to all of them."""
    base = settings("staging")
    routes = sorted(kinds)
    alerting = AlertingProfile.model_validate(
        {
            **base.alerting.model_dump(),
            "receivers": {kind: RECEIVERS[kind] for kind in kinds},
            "routes": {"critical": routes, "warning": routes, "info": routes},
        }
    )
    return base.model_copy(update={"alerting": alerting})


def group(groups: tuple[Group, ...], name: str) -> Group:
    (found,) = (g for g in groups if g.group == name)
    return found


def target(groups: tuple[Group, ...], name: str) -> Target:
    (found,) = (t for g in groups for t in g.targets if t.name == name)
    return found


def files_read(node: Any) -> set[str]:
    """The names of the Secret's files an Alertmanager configuration reads (its *_file fields)."""
    if isinstance(node, dict):
        own = {
            v.removeprefix(f"{am.SECRETS_DIR}/")
            for k, v in node.items()
            if k.endswith("_file") and isinstance(v, str)
        }
        return own.union(*(files_read(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(files_read(v) for v in node))
    return set()


@pytest.mark.parametrize("stack", STACKS)
def test_one_lockbox_secret_per_group_named_for_the_stack(stack: str) -> None:
    groups = catalog(settings(stack))
    assert [g.group for g in groups] == ["app", "monitoring"]
    names = {g.lockbox_name(Naming(stack)) for g in groups}
    assert names == {f"samokoder-{stack}-app-secrets", f"samokoder-{stack}-monitoring-secrets"}


@pytest.mark.parametrize("stack", STACKS)
def test_every_delivered_key_reads_an_entry_of_its_own_group(stack: str) -> None:
    for g in catalog(settings(stack)):
        keys = [e.key for e in g.entries]
        assert len(keys) == len(set(keys)), g.group
        for t in g.targets:
            assert set(t.keys.values()) <= set(keys), (g.group, t.name)


@pytest.mark.parametrize("stack", STACKS)
def test_templates_read_only_keys_their_secret_is_delivered_with(stack: str) -> None:
    for g in catalog(settings(stack)):
        for t in g.targets:
            for key, template in t.templates.items():
                assert set(TEMPLATE_VARIABLE.findall(template)) <= set(t.keys), (t.name, key)
                assert key not in t.keys, (t.name, key)


@pytest.mark.parametrize("stack", STACKS)
def test_every_secret_value_reaches_a_kubernetes_secret(stack: str) -> None:
    for g in catalog(settings(stack)):
        delivered = {entry for t in g.targets for entry in t.keys.values()}
        unread = [e.key for e in g.entries if e.source != "plain" and e.key not in delivered]
        assert unread == [], g.group


@pytest.mark.parametrize("kinds", RECEIVER_SETS, ids=lambda kinds: "+".join(sorted(kinds)))
def test_the_catalog_asks_for_exactly_the_provided_secrets_the_stack_needs(kinds: set[str]) -> None:
    stack = with_receivers(kinds)
    provided = {e.origin for g in catalog(stack) for e in g.entries if e.source == "provided"}
    assert provided == set(stack.required_secrets())
    assert provided <= set(ProvidedSecrets.model_fields)


@pytest.mark.parametrize("kinds", RECEIVER_SETS, ids=lambda kinds: "+".join(sorted(kinds)))
def test_alertmanager_finds_every_file_it_reads_in_the_receivers_secret(kinds: set[str]) -> None:
    stack = with_receivers(kinds)
    delivered = set(target(catalog(stack), ALERTMANAGER_RECEIVERS_SECRET).keys)
    assert files_read(am.alertmanager_config(stack.alerting)) == delivered


@pytest.mark.parametrize("stack", STACKS)
def test_each_groups_secrets_land_in_the_namespace_of_their_readers(stack: str) -> None:
    groups = catalog(settings(stack))
    assert {t.namespace for t in group(groups, "app").targets} == {APP_NAMESPACE}
    assert {t.namespace for t in group(groups, "monitoring").targets} == {MONITORING_NAMESPACE}


@pytest.mark.parametrize("stack", STACKS)
def test_no_credential_is_kept_as_a_plain_value(stack: str) -> None:
    for g in catalog(settings(stack)):
        for entry in g.entries:
            if entry.source == "plain":
                assert not re.search(r"PASSWORD|TOKEN|SECRET|API_KEY", entry.key), entry
            if entry.source in ("generated", "fernet"):
                assert entry.origin == "", entry


def test_the_database_owners_login_is_a_basic_auth_secret_of_the_clusters_owner() -> None:
    groups = catalog(settings("prod"))
    owner = target(groups, DB_OWNER_SECRET)
    assert owner.type == "kubernetes.io/basic-auth"
    # The type requires exactly these keys.
    assert set(owner.keys) == {"username", "password"}
    entries = {e.key: e for e in group(groups, "app").entries}
    username, password = entries[owner.keys["username"]], entries[owner.keys["password"]]
    assert password.source == "generated"
    prof = settings("prod").database
    cluster = db_manifests.cluster(
        Naming("prod"), APP_NAMESPACE, prof, db.backup_plan(Naming("prod"), prof), 3, owner_secret=owner.name
    )
    assert (username.source, username.origin) == ("plain", cluster["spec"]["bootstrap"]["initdb"]["owner"])


def test_the_app_connects_to_the_pooler() -> None:
    groups = catalog(settings("staging"))
    entries = {e.key: e.origin for e in group(groups, "app").entries}
    assert entries["DATABASE_HOST"] == f"{db.POOLER}.{APP_NAMESPACE}.svc"
    assert entries["DATABASE_PORT"] == str(db.POOLER_PORT)
    assert entries["DATABASE_NAME"] == db.DATABASE
    url = target(groups, APP_SECRET).templates[app.DATABASE_URL.name]
    assert url.startswith("postgresql+asyncpg://")


def test_redis_in_the_cluster_needs_nothing_from_lockbox() -> None:
    groups = catalog(settings("staging"))
    keys = {e.key for g in groups for e in g.entries}
    assert not {k for k in keys if k.startswith("REDIS")}, keys
    assert app.REDIS_URL.name not in target(groups, APP_SECRET).templates
