"""What a secret looks like, whatever the name it is kept under.

Three ways a value gives itself away: a known credential format (a private key,
a Yandex IAM or OAuth token, a JWT...), a secret-named key holding a literal
(`DB_PASS`, `pwd`, `apiToken`, not only `*PASSWORD*`), or the shape of a
generated secret: one long token of mixed characters with the entropy of random
text. Text that holds many values (an env file, a properties or YAML file, a
ConfigMap's `binaryData`) is read line by line as `key=value` / `key: value`.
What the program itself renders must pass: digests, checksums, ids, names,
paths, URLs without a password and templates are not secrets by shape.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

# Credential formats: PEM private keys; Yandex Cloud IAM tokens (`t1.`), OAuth tokens (`y0_`)
# and static-key secrets (`YC...`); `sk-` API keys (the formats the policy caught before); JWTs
# (RFC 7519: three base64url parts, the first two JSON objects, so `eyJ`, which is `{"`).
KNOWN_FORMAT = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----|\bt1\.[A-Za-z0-9_-]{20,}|\by0_[A-Za-z0-9_-]{20,}"
    r"|\bYC[A-Za-z0-9_-]{30,}|\bsk-[A-Za-z0-9_-]{20,}"
    r"|\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
)

# Words a key is split into (snake, kebab, dotted, camelCase) that say it holds a secret.
SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pass",
        "pwd",
        "passphrase",
        "secret",
        "token",
        "apikey",
        "credential",
        "credentials",
        "privatekey",
    }
)

# A Kubernetes object name or key, a path, a template: what a secret-named key holds when it
# refers to a secret rather than holding one.
REFERENCE = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")

# One opaque token: no spaces, the characters generated secrets are made of.
TOKEN = re.compile(r"[A-Za-z0-9+/=_\-.~!@#$%^&*]{20,256}")

# A line of an env, properties or YAML file: key, separator, value.
ASSIGNMENT = re.compile(r"""^\s*(?:export\s+)?([A-Za-z_][\w.-]*)\s*(?:=|:\s)\s*["']?(.*?)["']?\s*$""")


def _words(key: str) -> set[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", key)
    words = {w.lower() for w in re.split(r"[\s_.\-/\[\]]+", spaced) if w}
    joined = re.sub(r"[\s_.\-]", "", key.lower())
    return words | ({joined} if joined in SECRET_WORDS else set())


def secret_named(key: str) -> bool:
    return bool(_words(key) & SECRET_WORDS) or "password" in key.lower()


def entropy(text: str) -> float:
    """Shannon entropy, in bits per character."""
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def random_looking(value: str) -> bool:
    """One token with the mix and entropy of generated text (not hex, an id, a path or a URL)."""
    if not TOKEN.fullmatch(value) or re.fullmatch(r"[0-9a-fA-F:.-]+", value):
        return False  # digests, checksums and addresses are hex
    if "://" in value or value.startswith(("/", "{{", "$")) or value.count(".") >= 2:
        return False  # a URL, a path, a template, a host name or a version
    if REFERENCE.fullmatch(value):
        return False  # a Kubernetes name (lowercase words and a hash: a Backup's, a Job's)
    classes = sum(bool(re.search(p, value)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"))
    # Random text over n symbols reaches log2(n) bits a character; words and ids stay well under.
    return classes >= 3 and entropy(value) >= min(4.2, 0.85 * math.log2(len(value)))


# Words of a key that says it names where a secret is, not the secret (`passwordSecretName`,
# `existingSecret`, `tokenFile`, `secretKeyRef`).
REFERRING = frozenset({"name", "ref", "existing", "file", "path", "key", "keys", "mount", "volume"})


def _literal(key: str, value: str) -> bool:
    if len(value) < 8 or value.startswith(("/", "{{", "$")):
        return False
    return not (REFERENCE.fullmatch(value) and _words(key) & REFERRING)


def secret_in(key: str, value: Any, redacted: str) -> str | None:
    """Why `value`, kept under `key`, is a secret written down; None if it does not look like one."""
    if not isinstance(value, str) or not value or value == redacted:
        return None
    if KNOWN_FORMAT.search(value):
        return "a credential in a known format"
    if "\n" in value:
        found = ((k, secret_in(k, v, redacted)) for k, v in assignments(value))
        return next((f"{why} (its line '{k}')" for k, why in found if why), None)
    if secret_named(key) and _literal(key, value):
        return "a literal under a secret's name"
    return "a value with the shape of a generated secret" if random_looking(value) else None


def assignments(text: str) -> Iterator[tuple[str, str]]:
    for line in text.splitlines():
        if match := ASSIGNMENT.match(line):
            yield match[1], match[2]


def decoded(value: Any) -> str | None:
    """A ConfigMap's binaryData entry as text, when it is base64 of text."""
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
