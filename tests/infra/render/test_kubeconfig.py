"""The provider's kubeconfig: endpoint and CA from the cluster, token from the project's own plugin."""

from __future__ import annotations

import base64

import pytest
import yaml

from infra.render.kubeconfig import render_kubeconfig

CA = "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n"


def test_the_kubeconfig_points_at_the_cluster_and_trusts_its_ca() -> None:
    config = yaml.safe_load(render_kubeconfig("c1", "https://198.51.100.7", CA))
    (cluster,) = config["clusters"]
    assert cluster["cluster"]["server"] == "https://198.51.100.7"
    assert base64.b64decode(cluster["cluster"]["certificate-authority-data"]).decode() == CA
    assert config["current-context"] == "c1"


def test_credentials_come_from_the_projects_own_plugin_at_run_time() -> None:
    config = yaml.safe_load(render_kubeconfig("c1", "https://198.51.100.7", CA))
    (user,) = config["users"]
    assert user["user"]["exec"]["command"] == "samokoder-infra"
    assert user["user"]["exec"]["args"] == ["kube-credential"]


def test_a_plain_http_endpoint_is_refused() -> None:
    with pytest.raises(ValueError, match="https"):
        render_kubeconfig("c1", "http://198.51.100.7", CA)
