"""Every custom resource of both stacks, judged by a real Kubernetes API server (tests/kube_api.py).

Each object synth would deploy whose kind a CRD adds goes through a
server-side apply with ``--dry-run=server --validate=strict`` against the
CRDs under tests/crds/: the server's structural schema, its CEL rules and
strict field validation judge it, as a cluster would at ``pulumi up``. Built-in
kinds are not this server's: kubernetes-validate checks them
(tests/infra/ops/synth/test_writer.py).

The API server comes from ``scripts/install-kube-dryrun``; without it these
tests fail, saying to run it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import pytest

from infra.conventions import APP_NAMESPACE, DATABASE_CLUSTER, DB_OWNER_SECRET, Naming
from infra.ops.synth.numbers import whole_numbers
from infra.ops.synth.runner import Synthesis
from infra.ops.synth.writer import is_kubernetes_object
from infra.render.database import manifests
from infra.render.database.plan import backup_plan
from infra.render.workloads import drill
from infra.settings import load_settings
from infra.settings.loader import read_profile, validate_settings
from tests.conftest import STACKS, stack_file_values, with_changes
from tests.kube_api import KubeAPI, Verdict, is_builtin, kind_key, kube_api_in_background

pytestmark = pytest.mark.tool

Synthesized = Callable[[str], Synthesis]


@pytest.fixture(scope="session")
def kube_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Future[KubeAPI]]:
    """etcd and the API server with tests/crds/ installed, started in the background by the first test."""
    with kube_api_in_background(tmp_path_factory.mktemp("kube-api")) as started:
        yield started


def rendered(synthesis: Synthesis) -> list[dict[str, Any]]:
    """The Kubernetes objects synth writes, as the cluster would get them."""
    return [whole_numbers(r.inputs) for r in synthesis.deployed() if is_kubernetes_object(r)]


@pytest.mark.parametrize("stack", STACKS)
def test_the_api_server_accepts_every_custom_resource(
    stack: str, synthesized: Synthesized, kube_api: Future[KubeAPI]
) -> None:
    objects = rendered(synthesized(stack))
    custom = [o for o in objects if not is_builtin(o)]
    api = kube_api.result()
    without_crd = sorted({kind_key(o) for o in custom if not api.serves(o)})
    assert not without_crd, f"no CRD under tests/crds/ for {without_crd}: vendor it (tests/crds/README.md)"

    verdicts = api.dry_run(custom)
    rejected = [v for v in verdicts if not v.accepted]
    print(
        f"{stack}: {len(verdicts)} custom resources judged, {len(objects) - len(custom)} built-in objects"
        f" skipped (kubernetes-validate checks them), {len(rejected)} rejected"
    )
    for verdict in verdicts:
        print(f"  {verdict}")
    assert custom, "synth rendered no custom resource"
    assert not rejected, "the API server rejected:\n" + "\n\n".join(map(str, rejected))


# --- a rebuild: the stack's Cluster recovered from its archive ---------------------------


def rebuilt_objects(stack: str) -> list[dict[str, Any]]:
    """The ObjectStore and the Cluster of ``stack`` rebuilt from its archive (docs/runbooks/
    losing-the-cluster.md), rendered from the stack's own settings as the Database component does."""
    origin = {"server_name": DATABASE_CLUSTER, "target_time": "2026-12-07T09:30:00+03:00"}
    changes = {"database.server_name": f"{DATABASE_CLUSTER}-2", "database.recover_from": origin}
    profile = with_changes(read_profile(stack), changes)
    settings = validate_settings(stack, profile, stack_file_values(stack), offline=True)
    naming, database = Naming(stack), settings.database
    backups = backup_plan(naming, database)
    zones = len(settings.network.zones)
    return [
        manifests.object_store(naming, APP_NAMESPACE, backups),
        manifests.cluster(naming, APP_NAMESPACE, database, backups, zones, owner_secret=DB_OWNER_SECRET),
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_the_api_server_accepts_a_rebuilt_cluster_and_its_object_store(
    stack: str, kube_api: Future[KubeAPI]
) -> None:
    objects = rebuilt_objects(stack)
    assert objects[1]["spec"]["bootstrap"]["recovery"]["source"] == "origin"
    verdicts = kube_api.result().dry_run(objects)
    for verdict in verdicts:
        print(f"  {verdict}")
    assert [v.accepted for v in verdicts] == [True, True], "\n\n".join(map(str, verdicts))


def test_the_api_server_judges_the_rebuilds_source(kube_api: Future[KubeAPI]) -> None:
    """The recovery source is checked by the CRD too: a plugin source with no plugin named is refused.

    (That a Cluster starts one way only is the operator's webhook's rule, validateBootstrapMethod in
    internal/webhook/v1/cluster_webhook.go:598 at v1.30.0; this server runs no webhook.)
    """
    cluster = rebuilt_objects(STACKS[0])[1]
    unnamed = copy.deepcopy(cluster)
    del unnamed["spec"]["externalClusters"][0]["plugin"]["name"]
    original, broken = kube_api.result().dry_run([cluster, unnamed])
    print(f"a recovery source with no plugin named: {broken}")
    assert original.accepted, f"the rebuilt Cluster is already rejected: {original}"
    assert not broken.accepted, "a recovery source with no plugin named was accepted"
    assert "spec.externalClusters[0].plugin.name: Required value" in broken.message, _first_lines(broken)


@pytest.mark.parametrize("stack", STACKS)
def test_the_api_server_accepts_the_restore_drills_copy(stack: str, kube_api: Future[KubeAPI]) -> None:
    """restore-drill creates it outside synth, from the stack's settings (infra/ops/cli/restore_drill.py)."""
    settings = load_settings(stack, stack_file_values(stack), offline=True)
    made = drill.drill_cluster(settings, "9f8e7d")
    (verdict,) = kube_api.result().dry_run([whole_numbers(made)])
    assert verdict.accepted, str(verdict)


# --- broken objects: the server must refuse them ---------------------------------------


@dataclass(frozen=True)
class Breakage:
    """A change that makes a rendered object invalid, and what the server's message must say."""

    what: str
    changes: dict[str, Any]
    says: str

    def apply_to(self, document: dict[str, Any]) -> dict[str, Any]:
        broken = copy.deepcopy(document)
        for dotted, value in self.changes.items():
            *parents, last = (int(p) if p.isdigit() else p for p in dotted.split("."))
            node: Any = broken
            for part in parents:
                node = node[part]
            node[last] = value
        return broken


# One per custom kind the program renders: an unknown field, a value outside an
# enum, a string that misses its pattern, or a CRD's CEL rule broken.
BREAKAGES = {
    "ClusterIssuer": Breakage(
        # server-side apply refuses it while typing the patch, before strict decoding would
        "an unknown field",
        {"spec.acme.emial": "oncall@example.org"},
        ".spec.acme.emial: field not declared in schema",
    ),
    "ClusterSecretStore": Breakage(
        "a Secret name against its pattern",
        {"spec.provider.yandexlockbox.auth.authorizedKeySecretRef.name": "Lockbox_Reader_Key"},
        "spec.provider.yandexlockbox.auth.authorizedKeySecretRef.name: Invalid value",
    ),
    "ExternalSecret": Breakage(
        "a creation policy outside the enum",
        {"spec.target.creationPolicy": "Adopt"},
        'spec.target.creationPolicy: Unsupported value: "Adopt"',
    ),
    "PodMonitor": Breakage(
        "a relabeling action outside the enum",
        {"spec.podMetricsEndpoints.0.relabelings.0.action": "rename"},
        'spec.podMetricsEndpoints[0].relabelings[0].action: Unsupported value: "rename"',
    ),
    "Probe": Breakage(
        "an interval against its pattern",
        {"spec.interval": "30 seconds"},
        'spec.interval: Invalid value: "30 seconds"',
    ),
    "PrometheusRule": Breakage(
        "a `for` duration against its pattern",
        {"spec.groups.0.rules.0.for": "5 minutes"},
        'spec.groups[0].rules[0].for: Invalid value: "5 minutes"',
    ),
    "ServiceMonitor": Breakage(
        "a scheme outside the enum",
        {"spec.endpoints.0.scheme": "ftp"},
        'spec.endpoints[0].scheme: Unsupported value: "ftp"',
    ),
    "Cluster": Breakage(
        "a CEL rule: an ICU locale with the default locale provider",
        {"spec.bootstrap.initdb.icuLocale": "ru-RU"},
        "icuLocale is only available when localeProvider is set to `icu`",
    ),
    "Pooler": Breakage(
        "a pooler type outside the enum", {"spec.type": "primary"}, 'Unsupported value: "primary"'
    ),
    "ScheduledBackup": Breakage(
        "an owner reference outside the enum",
        {"spec.backupOwnerReference": "owner"},
        'spec.backupOwnerReference: Unsupported value: "owner"',
    ),
    "Backup": Breakage(
        "a method outside the enum", {"spec.method": "tape"}, 'spec.method: Unsupported value: "tape"'
    ),
    "Canary": Breakage(
        "a traffic provider outside the enum",
        {"spec.provider": "haproxy"},
        'spec.provider: Unsupported value: "haproxy"',
    ),
    "MetricTemplate": Breakage(
        "a metrics provider outside the enum",
        {"spec.provider.type": "graphana"},
        'spec.provider.type: Unsupported value: "graphana"',
    ),
    "ObjectStore": Breakage(
        "a CEL rule: the server name in the object store",
        {"spec.configuration.serverName": "samokoder-db"},
        "use the 'serverName' plugin parameter in the Cluster resource",
    ),
}


def custom_kinds(synthesized: Synthesized) -> set[str]:
    return {o["kind"] for stack in STACKS for o in rendered(synthesized(stack)) if not is_builtin(o)}


def test_every_custom_kind_rendered_has_a_breakage(synthesized: Synthesized) -> None:
    assert custom_kinds(synthesized) == set(BREAKAGES), (
        "BREAKAGES must hold one entry per custom kind rendered"
    )


@pytest.mark.parametrize("kind", sorted(BREAKAGES))
def test_the_api_server_rejects_a_broken(
    kind: str, synthesized: Synthesized, kube_api: Future[KubeAPI]
) -> None:
    objects = [o for o in rendered(synthesized(STACKS[0])) if o["kind"] == kind]
    assert objects, f"{STACKS[0]} renders no {kind}"
    breakage = BREAKAGES[kind]
    original, broken = kube_api.result().dry_run([objects[0], breakage.apply_to(objects[0])])
    print(f"{kind} with {breakage.what}: {broken}")
    assert original.accepted, f"the unbroken object is already rejected: {original}"
    assert not broken.accepted, f"{kind} with {breakage.what} was accepted"
    assert breakage.says in broken.message, f"{kind} with {breakage.what}: {_first_lines(broken)}"


def _first_lines(verdict: Verdict) -> str:
    return "\n".join(verdict.message.splitlines()[:5])
