"""The app's ConfigMap: the variables the app reads, under its names, with values that work in the cluster."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

import kubernetes_validate
import pytest

from infra import app_contract as app
from infra.conventions import APP_NAMESPACE, CONFIG_MAP, Naming
from infra.render import redis
from infra.render.workloads import manifests as m
from infra.render.workloads.config import config_map
from infra.settings import load_settings
from infra.settings.stack import StackSettings
from tests.conftest import STACKS, stack_file_values

NAMING = Naming("unit")


def settings(stack: str) -> StackSettings:
    return load_settings(stack, stack_file_values(stack), offline=True)


def data(stack: str) -> dict[str, str]:
    found: dict[str, str] = config_map(NAMING, m.AppSpec.of(settings(stack)))["data"]
    return found


@pytest.mark.parametrize("stack", STACKS)
def test_the_config_map_is_a_valid_object_named_as_the_pods_read_it(stack: str) -> None:
    document = config_map(NAMING, m.AppSpec.of(settings(stack)))
    kubernetes_validate.validate(document, f"{settings(stack).cluster.version}.0", strict=True)
    assert (document["metadata"]["name"], document["metadata"]["namespace"]) == (CONFIG_MAP, APP_NAMESPACE)
    # Environment variables are strings: a number here would not be a valid ConfigMap.
    assert all(isinstance(value, str) for value in document["data"].values())


@pytest.mark.parametrize("stack", STACKS)
def test_every_key_is_a_variable_the_app_reads(stack: str) -> None:
    read = {variable.name for process in app.PROCESSES for variable in process.env}
    # No name of the app's past (SAMOKODER_ENVIRONMENT, SAMOKODER_PUBLIC_URL): it would be ignored.
    assert set(data(stack)) <= read, set(data(stack)) - read


@pytest.mark.parametrize(("stack", "environment"), [("prod", "production"), ("staging", "staging")])
def test_the_app_runs_in_the_environment_of_its_profile_and_prod_in_production(
    stack: str, environment: str
) -> None:
    # Only 'production' turns on the app's secret checks, secure cookies and HSTS.
    assert data(stack)[app.ENVIRONMENT.name] == settings(stack).workloads.environment == environment


@pytest.mark.parametrize("environment", ["development", "staging"])
def test_a_changed_environment_reaches_the_config_map(environment: str) -> None:
    spec = m.AppSpec.of(settings("staging"))
    changed = dataclasses.replace(
        spec, workloads=spec.workloads.model_copy(update={"environment": environment})
    )
    assert config_map(NAMING, changed)["data"][app.ENVIRONMENT.name] == environment


@pytest.mark.parametrize("stack", STACKS)
def test_cors_allows_exactly_the_sites_own_origin(stack: str) -> None:
    origins = data(stack)[app.CORS_ORIGINS.name].split(",")
    assert origins == [f"https://{settings(stack).identity.domain}"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_workers_config_dir_is_a_path_it_may_write(stack: str) -> None:
    assert data(stack)[app.CONFIG_DIR.name] in app.WORKER.writable_paths


@pytest.mark.parametrize("stack", STACKS)
def test_forwarded_addresses_are_trusted_and_telemetry_is_off(stack: str) -> None:
    values = data(stack)
    # Only the ingress controller reaches the API's port (its NetworkPolicy).
    assert values[app.FORWARDED_ALLOW_IPS.name] == "*"
    assert values[app.DISABLE_TELEMETRY.name]


@pytest.mark.parametrize("stack", STACKS)
def test_the_app_finds_redis_in_the_cluster_by_its_services_address(stack: str) -> None:
    values = data(stack)
    service = redis.service(NAMING)
    host = f"{service['metadata']['name']}.{service['metadata']['namespace']}.svc"
    (port,) = (p["port"] for p in service["spec"]["ports"])
    assert (values[app.REDIS_HOST.name], values[app.REDIS_PORT.name]) == (host, str(port))
    # The worker reads int(REDIS_PORT): a number, not a service link's tcp://...
    assert int(values[app.REDIS_PORT.name]) == port
    url = urlsplit(values[app.REDIS_URL.name])
    assert (url.scheme, url.hostname, url.port, url.password) == ("redis", host, port, None)
