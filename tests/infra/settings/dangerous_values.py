"""The dangerous settings tried by test_dangerous.py: each value, the path that takes it, the key it names."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# Made up for the table: what an operator might paste where a path or an encrypted value belongs.
PEM_KEY = "\n".join(
    (
        "-----BEGIN PRIVATE KEY-----",  # pragma: allowlist secret
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7",
        "-----END PRIVATE KEY-----",
    )
)
INLINE_KEY = json.dumps(
    {
        "id": "aje0000000000000000a",
        "service_account_id": "aje0000000000000000b",
        "private_key": f"{PEM_KEY}\n",
    }
)
LONG_BLOB = "QUFB" * 1100
OAUTH_TOKEN = "y0_AgAAAAAAAAAAAAATuwAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"  # pragma: allowlist secret
CLEAR_API_KEY = "sk-or-v1-" + "ab" * 32  # pragma: allowlist secret
SECRET_KEY = "YCOAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"  # pragma: allowlist secret


@dataclass(frozen=True)
class Dangerous:
    """One dangerous value, the path that takes it, and the `file: key` its refusal must name."""

    what: str
    stack: str
    names: str
    profile: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    # The committed profile as it is (the documentation placeholder) instead of a deployable one.
    committed_profile: bool = False
    # Raw `config:` entries of a Pulumi.<stack>.yaml, read as synth and `pulumi up` read it.
    stack_file: dict[str, Any] | None = None
    # Config handed to the program by the Pulumi runtime (`pulumi up`), and which keys are encrypted.
    runtime: dict[str, str] | None = None
    # Text that must appear nowhere in the refusal (a credential).
    unsaid: str | None = None


def _slash_eights(count: int) -> list[str]:
    return [f"{first}.0.0.0/8" for first in range(1, count + 1)]


PROD = "stacks/prod.yaml"
STAGING = "stacks/staging.yaml"
PROD_FILE = "Pulumi.prod.yaml"
STAGING_FILE = "Pulumi.staging.yaml"


def _lockbox(stack_file: str, key: str = "endpoint") -> str:
    return f"{stack_file}: samokoder:lockbox.{key}:"


DANGEROUS = [
    # Address ranges the security groups admit as the cluster's own.
    Dangerous(
        "public pod CIDR (half the internet)",
        "prod",
        f"{PROD}: cluster.pod_cidr:",
        {"cluster.pod_cidr": "128.0.0.0/1"},
    ),
    Dangerous(
        "pod CIDR of the whole internet",
        "staging",
        f"{STAGING}: cluster.pod_cidr:",
        {"cluster.pod_cidr": "0.0.0.0/0"},
    ),
    Dangerous(
        "service CIDR in shared address space (RFC 6598)",
        "prod",
        f"{PROD}: cluster.service_cidr:",
        {"cluster.service_cidr": "100.64.0.0/16"},
    ),
    Dangerous(
        "public service CIDR",
        "staging",
        f"{STAGING}: cluster.service_cidr:",
        {"cluster.service_cidr": "1.0.0.0/16"},
    ),
    Dangerous("public VPC range", "prod", f"{PROD}: network.cidr:", {"network.cidr": "8.8.0.0/16"}),
    Dangerous(
        "VPC over the load balancer's health checkers",
        "staging",
        f"{STAGING}: network.cidr:",
        {"network.cidr": "198.18.0.0/16"},
    ),
    Dangerous(
        "VPC just outside 172.16.0.0/12", "prod", f"{PROD}: network.cidr:", {"network.cidr": "172.32.0.0/16"}
    ),
    # API allow-lists, judged by what they open together.
    Dangerous(
        "221 /8 blocks",
        "prod",
        f"{PROD}: cluster.api_allowed_cidrs:",
        {"cluster.api_allowed_cidrs": _slash_eights(221)},
    ),
    Dangerous(
        "0.0.0.0/0",
        "prod",
        f"{PROD}: cluster.api_allowed_cidrs:",
        {"cluster.api_allowed_cidrs": ["0.0.0.0/0"]},
    ),
    Dangerous(
        "0.0.0.0/1 + 128.0.0.0/1",
        "prod",
        f"{PROD}: cluster.api_allowed_cidrs:",
        {"cluster.api_allowed_cidrs": ["0.0.0.0/1", "128.0.0.0/1"]},
    ),
    Dangerous(
        "512 scattered /24s",
        "prod",
        f"{PROD}: cluster.api_allowed_cidrs:",
        {"cluster.api_allowed_cidrs": [f"{a}.{b}.7.0/24" for a in range(80, 82) for b in range(256)]},
    ),
    Dangerous(
        "a /15",
        "prod",
        f"{PROD}: cluster.api_allowed_cidrs:",
        {"cluster.api_allowed_cidrs": ["93.158.0.0/15"]},
    ),
    Dangerous(
        "the world with public_api off (the groups still open it)",
        "prod",
        f"{PROD}: cluster.api_allowed_cidrs:",
        {"cluster.public_api": False, "cluster.api_allowed_cidrs": ["0.0.0.0/0"]},
    ),
    Dangerous(
        "the documentation placeholder in a real run",
        "prod",
        f"{PROD}: cluster.api_allowed_cidrs:",
        committed_profile=True,
    ),
    # Where the IAM token goes.
    Dangerous(
        "any *.yandexcloud.net host",
        "prod",
        _lockbox(PROD_FILE),
        config={"lockbox.endpoint": "evil.yandexcloud.net:443"},
    ),
    Dangerous(
        "a bucket's website",
        "prod",
        _lockbox(PROD_FILE),
        config={"lockbox.endpoint": "samokoder.website.yandexcloud.net:443"},
    ),
    Dangerous(
        "an API gateway",
        "staging",
        _lockbox(STAGING_FILE),
        config={"lockbox.endpoint": "d5d0000000000000000a.apigw.yandexcloud.net:443"},
    ),
    Dangerous(
        "object storage (not the API)",
        "prod",
        _lockbox(PROD_FILE),
        config={"lockbox.endpoint": "storage.yandexcloud.net:443"},
    ),
    Dangerous(
        "the API's name as a prefix",
        "prod",
        _lockbox(PROD_FILE),
        config={"lockbox.endpoint": "api.cloud.yandex.net.attacker.example:443"},
    ),
    Dangerous(
        "the API on another port",
        "prod",
        _lockbox(PROD_FILE),
        config={"lockbox.endpoint": "api.cloud.yandex.net:8443"},
    ),
    Dangerous(
        "a foreign host", "staging", _lockbox(STAGING_FILE), config={"lockbox.endpoint": "evil.example:443"}
    ),
    Dangerous(
        "loopback with test_endpoint in prod",
        "prod",
        _lockbox(PROD_FILE, "test_endpoint"),
        config={"lockbox.endpoint": "127.0.0.1:50051", "lockbox.test_endpoint": True},
    ),
    Dangerous(
        "localhost with test_endpoint in prod",
        "prod",
        _lockbox(PROD_FILE, "test_endpoint"),
        config={"lockbox.endpoint": "localhost:443", "lockbox.test_endpoint": True},
    ),
    Dangerous(
        "IPv6 loopback in prod", "prod", _lockbox(PROD_FILE), config={"lockbox.endpoint": "[::1]:50051"}
    ),
    Dangerous(
        "loopback without the test switch",
        "staging",
        _lockbox(STAGING_FILE),
        config={"lockbox.endpoint": "127.0.0.1:443"},
    ),
    Dangerous(
        "the test switch to a foreign host",
        "staging",
        _lockbox(STAGING_FILE),
        config={"lockbox.endpoint": "evil.example:443", "lockbox.test_endpoint": True},
    ),
    # No credential where a path belongs.
    Dangerous(
        "an inline JSON key in key_file",
        "prod",
        _lockbox(PROD_FILE, "key_file"),
        config={"lockbox.auth": "service_account_key_file", "lockbox.key_file": INLINE_KEY},
        unsaid="MIIEvQ",
    ),
    Dangerous(
        "a PEM key in key_file",
        "staging",
        _lockbox(STAGING_FILE, "key_file"),
        config={"lockbox.auth": "service_account_key_file", "lockbox.key_file": PEM_KEY},
        unsaid="MIIEvQ",
    ),
    Dangerous(
        "a blob longer than any path in key_file",
        "staging",
        _lockbox(STAGING_FILE, "key_file"),
        config={"lockbox.auth": "service_account_key_file", "lockbox.key_file": LONG_BLOB},
        unsaid="QUFBQUFB",
    ),
    # Credentials in a stack file, encrypted or refused.
    Dangerous(
        "plain-text yandex:token",
        "prod",
        f"{PROD_FILE}: yandex:token:",
        stack_file={"yandex:token": OAUTH_TOKEN},
        unsaid=OAUTH_TOKEN,
    ),
    Dangerous(
        "a plain-text provided secret",
        "prod",
        f"{PROD_FILE}: samokoder:secrets.openrouter_api_key:",
        stack_file={"samokoder:secrets": {"openrouter_api_key": CLEAR_API_KEY}},
        unsaid="abababab",
    ),
    Dangerous(
        "plain-text yandex:storageSecretKey",
        "staging",
        f"{STAGING_FILE}: yandex:storageSecretKey:",
        stack_file={"yandex:storageSecretKey": SECRET_KEY},
        unsaid=SECRET_KEY,
    ),
    Dangerous(
        "an inline key in yandex:serviceAccountKeyFile",
        "prod",
        f"{PROD_FILE}: yandex:serviceAccountKeyFile:",
        stack_file={"yandex:serviceAccountKeyFile": INLINE_KEY},
        unsaid="MIIEvQ",
    ),
    Dangerous(
        "the provider's endpoint on a tenant's host",
        "prod",
        f"{PROD_FILE}: yandex:endpoint:",
        stack_file={"yandex:endpoint": "evil.yandexcloud.net:443"},
    ),
    Dangerous(
        "the provider without TLS",
        "staging",
        f"{STAGING_FILE}: yandex:plaintext:",
        stack_file={"yandex:plaintext": True},
    ),
    Dangerous(
        "plain-text yandex:token under pulumi up",
        "prod",
        f"{PROD_FILE}: yandex:token:",
        runtime={"yandex:token": OAUTH_TOKEN},
        unsaid=OAUTH_TOKEN,
    ),
    # Floors that can run the platform.
    Dangerous(
        "prod built from a local directory",
        "prod",
        f"{PROD_FILE}: samokoder:release.build:",
        config={"release.images": None, "release.build": {"context": "../app"}},
    ),
    Dangerous(
        "a database with no memory",
        "staging",
        f"{STAGING}: database.memory_gb:",
        {"database.memory_gb": 0.01},
    ),
    Dangerous(
        "a database with no CPU", "staging", f"{STAGING}: database.cpu_cores:", {"database.cpu_cores": 0.01}
    ),
    Dangerous(
        "prod's database at staging's size", "prod", f"{PROD}: database.memory_gb:", {"database.memory_gb": 1}
    ),
    Dangerous("a database bigger than a node", "prod", "database.memory_gb (64)", {"database.memory_gb": 64}),
    Dangerous(
        "a restore drill once a year",
        "prod",
        f"{PROD}: database.drill_period_days:",
        {"database.drill_period_days": 365},
    ),
    Dangerous(
        "no restore drill period",
        "staging",
        f"{STAGING}: database.drill_period_days:",
        {"database.drill_period_days": 0},
    ),
    Dangerous(
        "prod scaled to no nodes", "prod", f"{PROD}: node_group.min_per_zone:", {"node_group.min_per_zone": 0}
    ),
]
