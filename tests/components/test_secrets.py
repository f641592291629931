"""Secrets under Pulumi mocks: Lockbox secrets, the reader's reach, delivery objects, rotation, no leaks."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pulumi.runtime import rpc

from components.secrets import FERNET_KEY_BYTES
from infra.conventions import ALERTMANAGER_RECEIVERS_SECRET, APP_SECRET, DB_OWNER_SECRET, GRAFANA_ADMIN_SECRET
from infra.ops.synth.mocks import RecordedResource, RecordingMonitor, SynthMocks
from infra.ops.synth.runner import Synthesis, synthesize
from infra.render.charts import EXTERNAL_SECRETS as CHART
from infra.render.database import plan as db
from infra.render.monitoring import alertmanager as am
from infra.settings.source import PLAINTEXT_SECRETS_IN_TESTS
from tests.cli_runner import samokoder_infra
from tests.conftest import PROJECT_DIR, STACKS, provided_secrets, stack_file_values, write_project
from tests.crd_schemas import crd_problems

Synth = Callable[[str], Synthesis]
DYNAMIC = "pulumi-python:dynamic:Resource"
EXTERNAL_SECRET = "kubernetes:external-secrets.io/v1:ExternalSecret"  # pragma: allowlist secret
STORE = "kubernetes:external-secrets.io/v1:ClusterSecretStore"
PASSWORD = "random:index/randomPassword:RandomPassword"  # pragma: allowlist secret
RANDOM_ID = "random:index/randomId:RandomId"


def lockbox_secrets(synthesis: Synthesis) -> dict[str, RecordedResource]:
    return {r.inputs["name"]: r for r in synthesis.of_type(DYNAMIC) if "payload" in r.inputs}


def manifest(resource: RecordedResource) -> dict[str, Any]:
    return {**resource.inputs}


def external_secrets(synthesis: Synthesis) -> dict[str, dict[str, Any]]:
    return {r.inputs["metadata"]["name"]: manifest(r) for r in synthesis.of_type(EXTERNAL_SECRET)}


@pytest.mark.parametrize("stack", STACKS)
def test_one_kms_encrypted_lockbox_secret_per_consumer_group(synthesized: Synth, stack: str) -> None:
    synthesis = synthesized(stack)
    secrets = lockbox_secrets(synthesis)
    assert set(secrets) == {f"samokoder-{stack}-app-secrets", f"samokoder-{stack}-monitoring-secrets"}
    key = synthesis.one("yandex:index/kmsSymmetricKey:KmsSymmetricKey", "secrets-key")
    for secret in secrets.values():
        assert secret.inputs["kms_key_id"] == synthesis.id_of(key)
        # Every value is secret: the record shows the keys, never a value.
        assert set(secret.inputs["payload"].values()) == {"[secret]"}
    app = secrets[f"samokoder-{stack}-app-secrets"].inputs["payload"]
    assert {"SECRET_KEY", "APP_SECRET_KEY", "DATABASE_PASSWORD", "OPENROUTER_API_KEY"} <= set(app)
    monitoring = secrets[f"samokoder-{stack}-monitoring-secrets"].inputs["payload"]
    assert {"GRAFANA_ADMIN_PASSWORD", "TELEGRAM_BOT_TOKEN", "TELEGRAM_CHAT_ID", "WATCHDOG_URL"} <= set(
        monitoring
    )


@pytest.mark.parametrize(("stack", "protected"), [("prod", True), ("staging", False)])
def test_prod_protects_its_lockbox_secrets_and_their_key(
    synthesized: Synth, stack: str, protected: bool
) -> None:
    synthesis = synthesized(stack)
    for secret in lockbox_secrets(synthesis).values():
        assert secret.inputs["deletion_protection"] is protected
        assert secret.protect is protected
    assert synthesis.one("yandex:index/kmsSymmetricKey:KmsSymmetricKey", "secrets-key").protect is protected


@pytest.mark.parametrize("stack", STACKS)
def test_generated_values_are_64_characters_and_regenerate_only_on_rotation(
    synthesized: Synth, stack: str
) -> None:
    passwords = synthesized(stack).of_type(PASSWORD)
    # DATABASE_PASSWORD and GRAFANA_ADMIN_PASSWORD; Redis in the cluster has no password.
    assert sorted(p.name for p in passwords) == [
        "secrets-app-database-password",  # pragma: allowlist secret
        "secrets-monitoring-grafana-admin-password",  # pragma: allowlist secret
    ]
    for password in passwords:
        assert password.inputs["length"] >= 64
        assert password.inputs["keepers"] == {"rotation": "initial"}


@pytest.mark.parametrize("stack", STACKS)
def test_the_apps_two_keys_are_32_random_bytes_each_regenerated_only_on_rotation(
    synthesized: Synth, stack: str
) -> None:
    # SECRET_KEY and APP_SECRET_KEY are also Fernet keys in the app: 32 bytes, not a 64-character password.
    keys = {k.name: k.inputs for k in synthesized(stack).of_type(RANDOM_ID)}
    assert keys == {
        "secrets-app-secret-key": {"byteLength": FERNET_KEY_BYTES, "keepers": {"rotation": "initial"}},
        "secrets-app-app-secret-key": {"byteLength": FERNET_KEY_BYTES, "keepers": {"rotation": "initial"}},
    }
    assert FERNET_KEY_BYTES == 32


def test_a_rotation_request_regenerates_that_groups_values_only(tmp_path: Path) -> None:
    config = {**stack_file_values("staging"), "rotation": {"app": "2026-11-26T10:00:00+00:00"}}
    synthesis = synthesize("staging", write_project(tmp_path, "staging", config))
    generators = [*synthesis.of_type(PASSWORD), *synthesis.of_type(RANDOM_ID)]
    keepers = {p.name: p.inputs["keepers"]["rotation"] for p in generators}
    assert keepers == {
        "secrets-app-secret-key": "2026-11-26T10:00:00+00:00",
        "secrets-app-app-secret-key": "2026-11-26T10:00:00+00:00",
        "secrets-app-database-password": "2026-11-26T10:00:00+00:00",  # pragma: allowlist secret
        "secrets-monitoring-grafana-admin-password": "initial",  # pragma: allowlist secret
    }
    ages = synthesis.outputs["secret_ages"]
    assert ages["app"]["rotated_at"] == "2026-11-26T10:00:00+00:00"
    assert ages["app"]["rotate_by"] == "2027-02-24"  # 90 days on
    # Never rotated: its age counts from when Lockbox created it.
    assert ages["monitoring"]["rotated_at"] == "2026-11-01T00:00:00+00:00"
    # No age in days: the outputs are the same from day to day.
    assert all("age_days" not in age for age in ages.values())


@pytest.mark.parametrize("stack", STACKS)
def test_the_reader_may_read_these_secrets_and_nothing_else(synthesized: Synth, stack: str) -> None:
    synthesis = synthesized(stack)
    reader = synthesis.one("yandex:index/iamServiceAccount:IamServiceAccount", "secrets-reader")
    reader_id = synthesis.id_of(reader)
    for secret in lockbox_secrets(synthesis).values():
        assert secret.inputs["payload_viewers"] == [reader_id]
    reach = {
        (r.type, r.name) for r in synthesis.deployed() if reader_id in repr(r.inputs) and r is not reader
    }
    assert reach == {
        (DYNAMIC, "secrets-app"),
        (DYNAMIC, "secrets-monitoring"),
        # Without decrypting with the secrets' key the payload cannot be read.
        ("yandex:index/kmsSymmetricKeyIamBinding:KmsSymmetricKeyIamBinding", "secrets-reader-decrypts"),
        ("yandex:index/iamServiceAccountKey:IamServiceAccountKey", "secrets-reader-key"),
    }
    binding = synthesis.one(
        "yandex:index/kmsSymmetricKeyIamBinding:KmsSymmetricKeyIamBinding", "secrets-reader-decrypts"
    )
    assert binding.inputs["role"] == "kms.keys.decrypter"


@pytest.mark.parametrize("stack", STACKS)
def test_store_and_external_secrets_validate_against_their_crds(synthesized: Synth, stack: str) -> None:
    synthesis = synthesized(stack)
    (store,) = synthesis.of_type(STORE)
    assert crd_problems(manifest(store)) == []
    assert store.inputs["spec"]["conditions"] == [{"namespaces": ["monitoring", "samokoder"]}]
    for name, external in external_secrets(synthesis).items():
        assert crd_problems(external) == [], name


@pytest.mark.parametrize("stack", STACKS)
def test_each_consumer_gets_the_secret_it_reads(synthesized: Synth, stack: str) -> None:
    synthesis = synthesized(stack)
    externals = external_secrets(synthesis)
    ids = {name.split("-")[-2]: synthesis.id_of(r) for name, r in lockbox_secrets(synthesis).items()}

    def keys(name: str) -> dict[str, tuple[str, str]]:
        spec = externals[name]["spec"]
        return {d["secretKey"]: (d["remoteRef"]["key"], d["remoteRef"]["property"]) for d in spec["data"]}

    # Alertmanager: one file per configured receiver, named as its *_file fields expect.
    (alertmanager,) = (
        r
        for r in synthesis.of_type("kubernetes:helm.sh/v3:Release")
        if r.inputs["chart"] == "kube-prometheus-stack"
    )
    config = alertmanager.inputs["values"]["alertmanager"]["config"]
    files = {
        path.rsplit("/", 1)[1] for path in _values_ending_in_file(config) if path.startswith(am.SECRETS_DIR)
    }
    assert set(keys(ALERTMANAGER_RECEIVERS_SECRET)) == files
    assert {ref for ref, _ in keys(ALERTMANAGER_RECEIVERS_SECRET).values()} == {ids["monitoring"]}
    # Grafana's admin login.
    grafana = externals[GRAFANA_ADMIN_SECRET]["spec"]
    assert keys(GRAFANA_ADMIN_SECRET) == {"admin-password": (ids["monitoring"], "GRAFANA_ADMIN_PASSWORD")}
    assert grafana["target"]["template"]["data"] == {"admin-user": "admin"}
    # The database owner's login is what the CloudNativePG cluster is bootstrapped with.
    (cluster,) = (
        r
        for r in synthesis.of_type("kubernetes:postgresql.cnpg.io/v1:Cluster")
        if r.inputs["metadata"]["name"] == db.CLUSTER
    )
    assert cluster.inputs["spec"]["bootstrap"]["initdb"]["secret"] == {"name": DB_OWNER_SECRET}
    assert externals[DB_OWNER_SECRET]["spec"]["target"]["template"]["type"] == "kubernetes.io/basic-auth"
    assert keys(DB_OWNER_SECRET)["password"] == (ids["app"], "DATABASE_PASSWORD")
    # The app's URL is assembled from the parts, the password among them.
    app = externals[APP_SECRET]["spec"]
    url = app["target"]["template"]["data"]["SAMOKODER_DATABASE_URL"]
    assert url.startswith("postgresql+asyncpg://{{ .DATABASE_USER }}:{{ .DATABASE_PASSWORD }}@")
    assert {"DATABASE_USER", "DATABASE_PASSWORD", "DATABASE_HOST", "DATABASE_PORT", "DATABASE_NAME"} <= set(
        keys(APP_SECRET)
    )


def _values_ending_in_file(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k.endswith("_file") and isinstance(v, str)]
        return found + [x for v in node.values() for x in _values_ending_in_file(v)]
    if isinstance(node, list):
        return [x for v in node for x in _values_ending_in_file(v)]
    return []


def test_external_secrets_operator_is_pinned(synthesized: Synth) -> None:
    (release,) = (
        r
        for r in synthesized("prod").of_type("kubernetes:helm.sh/v3:Release")
        if r.inputs["chart"] == CHART.name
    )
    assert (release.inputs["version"], release.inputs["repositoryOpts"]["repo"]) == (
        "2.9.0",
        "https://charts.external-secrets.io",
    )


def test_no_secret_value_reaches_synth_output_or_its_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Made-up secrets in plain text in a test's stack file, which synth otherwise refuses.
    monkeypatch.setenv(PLAINTEXT_SECRETS_IN_TESTS, "1")
    planted = provided_secrets()
    project = write_project(tmp_path / "project", "prod", {**stack_file_values("prod"), "secrets": planted})
    out = tmp_path / "build"
    result = samokoder_infra(project, "synth", "prod", "--out", str(out))
    assert result.returncode == 0, result.stderr
    # The run used them: no warning about a missing secret.
    assert "warnings: 0" in result.stdout
    written = [path.read_text() for path in out.rglob("*") if path.is_file()]
    assert len(written) > 40
    for name, value in planted.items():
        assert value not in result.stdout + result.stderr, name
        assert not any(value in text for text in written), name
    # The generated values (the mocks' stand-ins) stay out as well.
    synthesis = synthesize("prod", project)
    resources = json.loads((out / "resources.json").read_text())
    assert "[secret]" in json.dumps(resources)
    lockbox = lockbox_secrets(synthesis)
    assert all(set(r.inputs["payload"].values()) == {"[secret]"} for r in lockbox.values())


# --- Fernet keys: SECRET_KEY and APP_SECRET_KEY ---------------------------------------------

FERNET_KEYS = ("SECRET_KEY", "APP_SECRET_KEY")


@pytest.mark.parametrize(
    "raw",
    [bytes(32), b"\xff" * 32, bytes(range(32)), b"\xfb\xef\xbe" * 10 + b"\xfb\xef", secrets.token_bytes(32)],
    ids=["zeros", "ones", "counting", "dashes and underscores", "random"],
)
def test_32_bytes_as_url_safe_base64_with_its_one_pad_are_a_fernet_key(raw: bytes) -> None:
    # The random provider's b64_url has no padding; the component adds the one '=' 32 bytes need.
    b64_url = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    key = f"{b64_url}="
    assert len(raw) == FERNET_KEY_BYTES
    assert base64.urlsafe_b64decode(key) == raw
    token = Fernet(key).encrypt(b"an LLM key")
    assert Fernet(key).decrypt(token) == b"an LLM key"
    # Without it, Fernet refuses the key: the app would not start.
    with pytest.raises(ValueError, match="32 url-safe base64-encoded bytes"):
        Fernet(b64_url)


@pytest.mark.parametrize("stack", STACKS)
def test_the_lockbox_payload_holds_two_distinct_fernet_keys(stack: str) -> None:
    # The recorded payload shows "[secret]"; what the mock cloud received holds the values.
    monitor = RecordingMonitor(SynthMocks())
    synthesize(stack, PROJECT_DIR, monitor=monitor)
    (payload,) = (
        r.state["payload"]
        for urn, r in monitor.resources.items()
        if urn.endswith("::secrets-app") and "payload" in r.state
    )
    # Sent to the cloud as a secret.
    assert payload[rpc._special_sig_key] == rpc._special_secret_sig
    values = payload["value"]
    keys = [values[name] for name in FERNET_KEYS]
    for name, key in zip(FERNET_KEYS, keys, strict=True):
        assert len(base64.urlsafe_b64decode(key)) == FERNET_KEY_BYTES, name
        Fernet(key)
    assert len(set(keys)) == 2
