"""A chart's values file is judged whole or refused: YAML the reader does not follow never hides a value.

Each text below gives a chart's pods the node's network in a form Helm's YAML
reader (go-yaml) takes: a flow mapping, an anchor and merge key, a tag, a
mapping over several lines. Before, the reader stopped at the first of these and
the `hostNetwork: true` after it went unjudged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from infra.policy.validators.pods import no_host_access
from infra.policy.validators.values import read_yaml

# The engine's asset struct for a StringAsset (pulumi-policy deserialize.py, SPECIAL_ASSET_SIG).
SIG_KEY = "4dabf18193072939515e22adb298388d"  # pragma: allowlist secret
SIG_VALUE = "c44067f5952c0a294b673a41bacd8c17"  # pragma: allowlist secret
ASSET_SIG = {SIG_KEY: SIG_VALUE}


@dataclass
class Release:
    props: Mapping[str, Any]
    resource_type: str = "kubernetes:helm.sh/v3:Release"
    urn: str = "urn:pulumi:staging::samokoder::kubernetes:helm.sh/v3:Release::chart"
    name: str = "chart"
    opts: Any = None
    config: Mapping[str, Any] = field(default_factory=dict)

    def get_config(self) -> Mapping[str, Any]:
        return self.config


def findings(release: Release) -> list[str]:
    found: list[str] = []
    no_host_access(release, lambda message, *_: found.append(message))
    return found


def from_file(text: str) -> Release:
    return Release({"chart": "c", "values": {}, "valueYamlFiles": [{**ASSET_SIG, "text": text}]})


HIDDEN = {
    "flow mapping": "controller: {hostNetwork: true}\n",
    "flow mapping over lines": "controller:\n  resources: {\n    cpu: 1 }\n  hostNetwork: true\n",
    "anchor and merge key": "base: &b\n  hostNetwork: true\ncontroller:\n  <<: *b\n",
    "anchor before the value": "a: &x 1\nhostNetwork: true\n",
    "tag": "controller:\n  hostNetwork: !!bool true\n",
    "more indented first line": "  a: 1\nhostNetwork: true\n",
}


@pytest.mark.parametrize("text", HIDDEN.values(), ids=HIDDEN.keys())
def test_a_form_the_reader_does_not_follow_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"does not follow|outside its structure"):
        read_yaml(text)
    assert any("cannot be read" in message for message in findings(from_file(text)))


@pytest.mark.parametrize("value", ["true", "True", "yes", " on "])
def test_a_switch_given_as_a_string_is_on(value: str) -> None:
    # A template writes the string into the manifest as it is, where YAML 1.1 reads it as true.
    found = findings(Release({"chart": "c", "values": {"controller": {"hostNetwork": value}}}))
    assert any("hostNetwork is true" in message for message in found)
    assert findings(from_file(f"controller:\n  privileged: '{value}'\n"))


def test_what_the_reader_follows_still_passes() -> None:
    text = "controller:\n  hostNetwork: false\n  args: [a, b]\n  conf: |\n    x: 1\n  ports:\n  - 80\n"
    assert read_yaml(text) == {
        "controller": {"hostNetwork": False, "args": ["a", "b"], "conf": "x: 1", "ports": [80]}
    }
    assert findings(from_file(text)) == []
    assert findings(Release({"chart": "c", "values": {"hostNetwork": "false"}})) == []
