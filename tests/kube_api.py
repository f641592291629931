"""A real Kubernetes API server on loopback that judges custom resources.

etcd and the upstream apiextensions-apiserver (the half of kube-apiserver that
serves CustomResourceDefinitions and their objects), as
``scripts/install-kube-dryrun`` installs them into ``.tools/kube-apiserver``,
run for the test session on free loopback ports. The CRDs under
``tests/crds/`` are created for real and waited on (Established, and published
in /openapi/v3); each object is then sent through
``kubectl apply --server-side --dry-run=server --validate=strict``, so that the
server's own code judges it: the structural schema (types, enums, patterns,
bounds, unknown fields), the CRD's CEL rules (``x-kubernetes-validations``),
defaulting and pruning, and server-side apply. Nothing is stored.

The server serves no built-in kinds (no Deployments, no Namespaces): those are
not its to judge, and kubernetes-validate goes on checking them.

``kube_api_in_background`` starts it in a background thread and hands out a
future: a session fixture yields it, and the tests wait on it. A missing
install fails those tests (never skips them) with the command to run.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import itertools
import json
import os
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import PROJECT_DIR
from tests.processes import free_port, serving

CRD_DIR = PROJECT_DIR / "tests" / "crds"
INSTALLER = "scripts/install-kube-dryrun"
# Where the installer puts it; KUBE_DRYRUN_HOME moves both.
KUBE_HOME = Path(os.environ.get("KUBE_DRYRUN_HOME") or PROJECT_DIR / ".tools" / "kube-apiserver")
# The field manager the dry-runs apply as (nothing is stored, but SSA needs one).
FIELD_MANAGER = "samokoder-tests"
# kubectl processes at a time: each mostly waits on the server.
PARALLEL = 4


@dataclass(frozen=True)
class Installed:
    etcd: Path
    apiserver: Path
    kubectl: Path
    versions: str


def installed() -> Installed:
    """The installed programs; any missing one is a failure that says how to install it."""
    paths = {
        "etcd": KUBE_HOME / "bin" / "etcd",
        "apiserver": KUBE_HOME / "bin" / "kube-dryrun-apiserver",
        "kubectl": KUBE_HOME / "venv" / "bin" / "kubectl",
    }
    missing = [str(path) for path in paths.values() if not os.access(path, os.X_OK)]
    if missing:
        raise AssertionError(
            f"the Kubernetes API server for the dry-runs is not installed ({', '.join(missing)} missing):"
            f" run {INSTALLER} (about 10 minutes the first time; make test runs it)"
        )
    stamp = KUBE_HOME / "installed"
    versions = " ".join(stamp.read_text().splitlines()[3:]) if stamp.is_file() else "unknown versions"
    return Installed(**paths, versions=versions)


@dataclass(frozen=True)
class Verdict:
    """What the server said of one object: accepted or rejected, with its message."""

    api_version: str
    kind: str
    namespace: str
    name: str
    accepted: bool
    message: str

    @property
    def object(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.api_version} {self.kind} {where}{self.name}"

    def __str__(self) -> str:
        return f"{'accepted' if self.accepted else 'REJECTED'} {self.object}: {self.message or '-'}"


def kind_key(document: dict[str, Any]) -> tuple[str, str]:
    return str(document.get("apiVersion", "")), str(document.get("kind", ""))


def is_builtin(document: dict[str, Any]) -> bool:
    """A kind of Kubernetes itself (core, apps, networking.k8s.io, ...), not one a CRD adds."""
    group = kind_key(document)[0].rpartition("/")[0]
    return "." not in group or group.endswith(".k8s.io")


class _CrdLoader(yaml.CSafeLoader):
    """YAML 1.1 reads the bare ``=`` in the prometheus-operator CRDs as the obsolete ``!!value``."""


def _plain_string(loader: yaml.CSafeLoader, node: yaml.Node) -> Any:
    assert isinstance(node, yaml.ScalarNode)
    return loader.construct_scalar(node)


_CrdLoader.add_constructor("tag:yaml.org,2002:value", _plain_string)


def crds_in(directory: Path) -> list[dict[str, Any]]:
    documents = []
    for path in sorted(directory.glob("*.yaml")):
        documents += [d for d in yaml.load_all(path.read_text(), Loader=_CrdLoader) if d]
    return documents


def _unverified() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class KubeAPI:
    """A running server: kubectl against it, CRDs, and dry-runs."""

    def __init__(self, url: str, work: Path, kubectl: Path) -> None:
        self.url = url
        self.work = work
        self._kubectl = kubectl
        self.kubeconfig = work / "kubeconfig"
        self.kubeconfig.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [
                        {"name": "loopback", "cluster": {"server": url, "insecure-skip-tls-verify": True}}
                    ],
                    # The server checks no credentials, but kubectl asks for some when it has none.
                    "users": [{"name": "tests", "user": {"token": "unchecked"}}],
                    "contexts": [{"name": "loopback", "context": {"cluster": "loopback", "user": "tests"}}],
                    "current-context": "loopback",
                }
            )
        )
        self.served: frozenset[tuple[str, str]] = frozenset()
        self._objects = work / "objects"
        self._objects.mkdir()
        self._numbers = itertools.count(1)

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, context=_unverified(), timeout=10) as response:
            return json.load(response)

    def kubectl(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        command = [
            str(self._kubectl),
            f"--kubeconfig={self.kubeconfig}",
            f"--cache-dir={self.work / 'kubectl-cache'}",
            "--request-timeout=60s",
            *args,
        ]
        return subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, check=False
        )

    def install_crds(self, crds: Sequence[dict[str, Any]], timeout: float = 120) -> None:
        """Create the CRDs for real; return once each is Established and its versions are in /openapi/v3."""
        files = []
        for crd in crds:
            path = self.work / "crds" / f"{crd['metadata']['name']}.yaml"
            path.parent.mkdir(exist_ok=True)
            path.write_text(yaml.safe_dump(crd))
            files += ["-f", str(path)]
        # create, not apply: apply keeps the whole CRD in an annotation, and the
        # largest CRDs are over its 256 KiB limit.
        created = self.kubectl("create", *files, timeout=timeout)
        if created.returncode != 0:
            raise AssertionError(f"the API server refused a vendored CRD:\n{created.stdout}{created.stderr}")
        names = [f"crd/{crd['metadata']['name']}" for crd in crds]
        ready = self.kubectl("wait", "--for=condition=Established", f"--timeout={int(timeout)}s", *names)
        if ready.returncode != 0:
            raise AssertionError(f"CRDs not Established in {timeout:.0f}s:\n{ready.stdout}{ready.stderr}")
        versions = {
            (f"{crd['spec']['group']}/{version['name']}", crd["spec"]["names"]["kind"])
            for crd in crds
            for version in crd["spec"]["versions"]
            if version.get("served")
        }
        # kubectl reads a kind's schema from /openapi/v3 to send strict field
        # validation; a CRD is published there a moment after it is Established.
        wanted = {f"apis/{api_version}" for api_version, _ in versions}
        deadline = time.monotonic() + timeout
        while not wanted <= set(self.get("/openapi/v3").get("paths", {})):
            if time.monotonic() > deadline:
                missing = wanted - set(self.get("/openapi/v3").get("paths", {}))
                raise AssertionError(f"not in /openapi/v3 after {timeout:.0f}s: {sorted(missing)}")
            time.sleep(0.2)
        self.served = self.served | versions

    def serves(self, document: dict[str, Any]) -> bool:
        return kind_key(document) in self.served

    def dry_run(self, documents: Iterable[dict[str, Any]]) -> list[Verdict]:
        """Each object through a server-side apply with --dry-run=server --validate=strict, in order."""
        documents = list(documents)
        with concurrent.futures.ThreadPoolExecutor(PARALLEL, thread_name_prefix="kube-dry-run") as pool:
            return list(pool.map(self._dry_run_one, documents))

    def _dry_run_one(self, document: dict[str, Any]) -> Verdict:
        path = self._objects / f"{next(self._numbers):04d}.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        result = self.kubectl(
            "apply",
            "--server-side",
            "--dry-run=server",
            "--validate=strict",
            f"--field-manager={FIELD_MANAGER}",
            "-o",
            "name",
            "-f",
            str(path),
        )
        metadata = document.get("metadata") or {}
        if result.returncode == 0:
            # What the server warned of (deprecated fields, say) rides along.
            message = result.stderr.strip()
        else:
            message = (
                result.stderr.strip() or result.stdout.strip()
            ) or f"kubectl exited {result.returncode}"
        return Verdict(
            api_version=str(document.get("apiVersion", "")),
            kind=str(document.get("kind", "")),
            namespace=str(metadata.get("namespace") or ""),
            name=str(metadata.get("name") or ""),
            accepted=result.returncode == 0,
            message=message,
        )


def _answers(url: str, path: str, expect: str | None = None) -> bool:
    try:
        with urllib.request.urlopen(url + path, context=_unverified(), timeout=2) as response:
            body = response.read().decode()
    except (urllib.error.URLError, OSError):
        return False
    return expect is None or expect in body


@contextlib.contextmanager
def running_kube_api(work: Path, tools: Installed | None = None) -> Iterator[KubeAPI]:
    """etcd and the API server on free loopback ports until the block ends (the server stops first)."""
    tools = tools or installed()
    work.mkdir(parents=True, exist_ok=True)
    client, peer, secure = free_port(), free_port(), free_port()
    etcd_url = f"http://127.0.0.1:{client}"
    etcd = [
        str(tools.etcd),
        "--name=tests",
        f"--data-dir={work / 'etcd'}",
        f"--listen-client-urls={etcd_url}",
        f"--advertise-client-urls={etcd_url}",
        f"--listen-peer-urls=http://127.0.0.1:{peer}",
        f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
        f"--initial-cluster=tests=http://127.0.0.1:{peer}",
        "--unsafe-no-fsync",
        "--log-level=warn",
    ]
    url = f"https://127.0.0.1:{secure}"
    apiserver = [
        str(tools.apiserver),
        f"--etcd-servers={etcd_url}",
        "--bind-address=127.0.0.1",
        f"--secure-port={secure}",
        f"--cert-dir={work / 'certs'}",
    ]
    with (
        serving(etcd, work / "etcd.log", lambda: _answers(etcd_url, "/health", '"true"')),
        serving(apiserver, work / "apiserver.log", lambda: _answers(url, "/readyz"), timeout=120),
    ):
        yield KubeAPI(url, work, tools.kubectl)


@contextlib.contextmanager
def kube_api_in_background(
    work: Path, crd_dir: Path = CRD_DIR
) -> Iterator[concurrent.futures.Future[KubeAPI]]:
    """The server with the CRDs of ``crd_dir`` installed, started in a background thread, until the end.

    The session fixture (tests/test_kube_dryrun.py) yields the future: the tests
    wait on ``.result()``, which raises what went wrong (a missing install, say)
    in each of them.
    """
    running = contextlib.ExitStack()

    def start() -> KubeAPI:
        api = running.enter_context(running_kube_api(work))
        api.install_crds(crds_in(crd_dir))
        return api

    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="kube-api") as pool:
        future = pool.submit(start)
        try:
            yield future
        finally:
            concurrent.futures.wait([future])
            running.close()
