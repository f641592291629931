"""The intents added in issue 24, and what judges by effect: coverage, values files, a secret's look."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator

import pytest

from infra.policy.catalog import POLICIES
from infra.policy.validators import REDACTED
from infra.policy.validators.looks import secret_in
from infra.policy.validators.network import WORLD_SHARE, public_share
from infra.policy.validators.values import read_yaml
from tests.infra.policy.by_path import (
    HALVES,
    RANDOM,
    TRUST_LINE,
    group,
    ingress,
    opening,
    postgres,
    role,
    service,
)
from tests.infra.policy.pack import Pack, running_pack
from tests.infra.policy.table import helm
from tests.infra.policy.test_policies import CASES, R, offline_findings, pack_findings

CNPG = {"cnpg.io/cluster": "samokoder-db"}

# policy -> (violating resources, satisfying resources, the resource named in the message)
INTENT_CASES: dict[str, tuple[list[R], list[R], str]] = {
    "admin-ports-closed": (
        [group(opening(HALVES, port=22))],
        [group(opening(["10.0.0.0/8"], port=22), opening(["203.0.113.0/24"], port=6443))],
        "nodes",
    ),
    "no-wildcard-roles": (
        [role("ClusterRole", ["*"], ["pods"])],
        [role("Role", ["get", "list", "watch"], ["backups"])],
        "ops",
    ),
    "no-public-database": (
        [service("LoadBalancer", 5432, CNPG)],
        [
            service("ClusterIP", 5432, CNPG),
            # The ingress controller's public load balancer is no database.
            helm({"controller": {"service": {"type": "LoadBalancer", "ports": {"http": 80, "https": 443}}}}),
        ],
        "db-public",
    ),
    "ingress-tls": (
        [ingress(None)],
        [ingress([{"hosts": ["samokoder.ru"], "secretName": "samokoder-tls"}])],  # pragma: allowlist secret
        "site",
    ),
    "no-trust-auth": (
        [postgres(postgresql={"pg_hba": [TRUST_LINE]})],
        [postgres(postgresql={"pg_hba": ["hostssl all all 10.0.0.0/8 scram-sha-256"]})],
        "samokoder-db",
    ),
}

# A config checksum annotation: hex, and no secret.
CHECKSUM = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"  # pragma: allowlist secret


@pytest.fixture(scope="module")
def pack() -> Iterator[Pack]:
    with running_pack() as running:
        yield running


@pytest.mark.parametrize("policy", list(INTENT_CASES))
def test_a_new_intent_rejects_its_violation_and_passes_the_fix(policy: str) -> None:
    bad, good, named = INTENT_CASES[policy]
    found = offline_findings(policy, copy.deepcopy(bad))
    assert found, f"{policy} did not reject its violating case"
    assert all(message.startswith(f"{named}:") for message in found), found
    assert offline_findings(policy, copy.deepcopy(good)) == []


@pytest.mark.parametrize("policy", list(INTENT_CASES))
@pytest.mark.tool
def test_the_pack_judges_a_new_intent_as_the_offline_check(pack: Pack, policy: str) -> None:
    bad, good, _ = INTENT_CASES[policy]
    assert pack_findings(pack, policy, copy.deepcopy(bad)) == offline_findings(policy, copy.deepcopy(bad))
    assert pack_findings(pack, policy, copy.deepcopy(good)) == []


def test_every_policy_states_its_intent_in_one_sentence() -> None:
    for policy in POLICIES:
        first = (policy.validate.__doc__ or "").strip().splitlines()[0]
        assert first.endswith("."), policy.name
        assert ". " not in first[:-1], (policy.name, first)
        assert len(first) <= 110, (policy.name, first)


def test_every_policy_has_a_case() -> None:
    assert set(CASES) | set(INTENT_CASES) == {p.name for p in POLICIES}


@pytest.mark.parametrize(
    ("blocks", "world"),
    [
        (["0.0.0.0/0"], True),
        (HALVES, True),
        (["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"], True),
        (["::/1", "8000::/1"], True),
        (["64.0.0.0/7"], True),  # two public /8s
        (["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"], False),  # private: no internet client
        (["198.18.235.0/24", "198.18.248.0/24"], False),  # the load balancer's health checks
        (["203.0.113.0/24", "8.8.0.0/16"], False),  # an office, a CI pool
        (["not a range"], False),
    ],
)
def test_ranges_are_judged_by_the_share_of_the_internet_they_cover(blocks: list[str], world: bool) -> None:
    assert (public_share(blocks) >= WORLD_SHARE) is world


def test_halves_of_the_internet_are_all_of_it() -> None:
    assert public_share(HALVES) == public_share(["0.0.0.0/0"]) == 1.0


def test_a_values_file_reads_as_the_tree_it_writes() -> None:
    text = (
        "# a chart's values\n"
        "controller:\n"
        "  hostNetwork: yes   # YAML 1.1's true\n"
        "  extraVolumes:\n"
        "  - name: root\n"
        "    hostPath:\n"
        "      path: /\n"
        "  args: ['--v=2', x]\n"
        "  conf: |\n"
        "    local all all trust\n"
        '  note: "a # kept"\n'
        "ports:\n"
        "- 5432\n"
    )
    assert read_yaml(text) == {
        "controller": {
            "hostNetwork": True,
            "extraVolumes": [{"name": "root", "hostPath": {"path": "/"}}],
            "args": ["--v=2", "x"],
            "conf": "local all all trust",
            "note": "a # kept",
        },
        "ports": [5432],
    }
    assert read_yaml(json.dumps({"a": [1]})) == {"a": [1]}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("image", "cr.yandex/crp0000000000000000/api@sha256:" + "ab" * 32),
        ("checksum/config", CHECKSUM),
        ("BACKUP_NAME", "samokoder-db-pre-migration-4f2a9c1d7e3b"),
        ("SAMOKODER_DATABASE_URL", "postgresql://samokoder@samokoder-db-rw:5432/samokoder"),
        ("createdAt", "2026-11-01T00:00:00Z"),
        ("expr", 'sum(rate(http_requests_total{job="api",code=~"5.."}[5m]))'),
        ("passwordSecretName", "samokoder-db-app"),
        ("PASSWORD_FILE", "/etc/secrets/password"),
        ("folderId", "b1g0000000000000000a"),
        ("token", REDACTED),
    ],
)
def test_what_the_program_renders_does_not_look_secret(key: str, value: str) -> None:
    assert secret_in(key, value, REDACTED) is None


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("APP_SIGNING", RANDOM),
        ("DB_PASS", "Tr0ub4dor-and-3"),
        ("smtpPwd", "correct-horse-battery-1"),
        ("app.env", f"LOG_LEVEL=info\nexport MAIL_TOKEN={RANDOM}\n"),
        ("jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlLWhlcmU"),  # pragma: allowlist secret
    ],
)
def test_a_secret_is_found_by_its_look_or_its_name(key: str, value: str) -> None:
    assert secret_in(key, value, REDACTED) is not None
