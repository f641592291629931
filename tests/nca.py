"""IBM's NetworkPolicy analyzer (network-config-analyzer, `nca`) over a set of policies and pods.

`nca --connectivity` computes, from the policies and the pods' labels alone,
which connections the cluster allows, pod by pod and for address blocks
outside it. This module writes its inputs, runs it from its own virtualenv
(scripts/install-tools puts it in .tools/nca) and reads its per-pair output
(`txt_no_fw_rules`): "<src> => <dst> : <connections>", where an end is
"namespace/pod" or an address range, and the connections are "All
connections", "{protocols:TCP,dst_ports:443,6443}" cubes, or "All but" such
cubes.
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.tools import TOOLS_DIR

NCA = TOOLS_DIR / "nca" / "bin" / "nca"
PROTOCOLS = {"TCP": 6, "UDP": 17, "SCTP": 132}
ALL_PORTS = (1, 65535)
# Protocol numbers NetworkPolicy cannot name (ICMP and the rest) count as one, without ports.
OTHER = 0
Intervals = list[tuple[int, int]]
# protocol number (or OTHER) -> port intervals
Allowed = dict[int, Intervals]


@dataclass(frozen=True)
class Pod:
    namespace: str
    name: str
    labels: Mapping[str, str]


def analyzer() -> Path:
    if not NCA.is_file():
        raise AssertionError(f"nca is not installed at {NCA}: run 'make tools' (scripts/install-tools)")
    return NCA


def connectivity(workdir: Path, policies: Iterable[Mapping[str, Any]], pods: Iterable[Pod]) -> list[str]:
    """The analyzer's connectivity map, one "src => dst : connections" line per allowed pair."""
    pods = list(pods)
    namespaces = sorted({p.namespace for p in pods})
    documents: dict[str, list[Any]] = {
        "policies.yaml": list(policies),
        "pods.yaml": [
            {
                "apiVersion": "v1",
                "kind": "PodList",
                "items": [
                    {
                        "apiVersion": "v1",
                        "kind": "Pod",
                        "metadata": {"name": p.name, "namespace": p.namespace, "labels": dict(p.labels)},
                        "spec": {"containers": [{"name": "main", "image": "image"}]},
                    }
                    for p in pods
                ],
            }
        ],
        "namespaces.yaml": [
            {
                "apiVersion": "v1",
                "kind": "NamespaceList",
                "items": [
                    {
                        "apiVersion": "v1",
                        "kind": "Namespace",
                        "metadata": {"name": n, "labels": {"kubernetes.io/metadata.name": n}},
                    }
                    for n in namespaces
                ],
            }
        ],
    }
    for name, docs in documents.items():
        (workdir / name).write_text(yaml.safe_dump_all(docs, sort_keys=False))
    out = workdir / "connectivity.txt"
    command = [
        str(analyzer()),
        "--connectivity",
        str(workdir / "policies.yaml"),
        "--pod_list",
        str(workdir / "pods.yaml"),
        "--ns_list",
        str(workdir / "namespaces.yaml"),
        "--output_format",
        "txt_no_fw_rules",
        "--output_endpoints",
        "pods",
        "--file_out",
        str(out),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0 or not out.is_file():
        raise AssertionError(f"nca failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    # Policies that name nothing are warned about; ours must all name something.
    warnings = [line for line in done.stdout.splitlines() if "Warning" in line]
    assert not warnings, "\n".join(warnings)
    return [line for line in out.read_text().splitlines() if " => " in line]


def parse_line(line: str) -> tuple[str, str, Allowed]:
    ends, _, connections = line.partition(" : ")
    source, _, destination = ends.partition(" => ")
    return source.strip(), destination.strip(), parse_connections(connections.strip())


def parse_connections(text: str) -> Allowed:
    if text == "All connections":
        return everything()
    if text.startswith("All but "):
        return subtract(everything(), _cubes(text.removeprefix("All but ")))
    return _cubes(text)


def everything() -> Allowed:
    return {**{number: [ALL_PORTS] for number in PROTOCOLS.values()}, OTHER: [ALL_PORTS]}


def _cubes(text: str) -> Allowed:
    found: Allowed = {}
    for cube in re.findall(r"\{([^}]*)\}", text):
        fields = dict(_fields(cube))
        protocols = _protocols(fields.get("protocols"))
        intervals = _intervals(fields["dst_ports"]) if "dst_ports" in fields else [ALL_PORTS]
        for protocol in protocols:
            found[protocol] = merge([*found.get(protocol, []), *intervals])
    return found


def _fields(cube: str) -> Iterable[tuple[str, str]]:
    keys = list(re.finditer(r"(\w+):", cube))
    for key, after in zip(keys, [*keys[1:], None], strict=True):
        end = after.start() if after else len(cube)
        yield key.group(1), cube[key.end() : end].strip().rstrip(",")


def _protocols(text: str | None) -> set[int]:
    if text is None:
        return {*PROTOCOLS.values(), OTHER}
    found: set[int] = set()
    for token in (t.strip() for t in text.split(",")):
        if token.upper() in PROTOCOLS:
            found.add(PROTOCOLS[token.upper()])
        else:
            low, _, high = token.partition("-")
            numbers = range(int(low), int(high or low) + 1)
            found |= {n if n in PROTOCOLS.values() else OTHER for n in numbers}
    return found


def _intervals(text: str) -> Intervals:
    found = []
    for token in (t.strip() for t in text.split(",")):
        low, _, high = token.partition("-")
        found.append((int(low), int(high or low)))
    return merge(found)


def merge(intervals: Iterable[tuple[int, int]]) -> Intervals:
    result: Intervals = []
    for low, high in sorted(intervals):
        if result and low <= result[-1][1] + 1:
            result[-1] = (result[-1][0], max(result[-1][1], high))
        else:
            result.append((low, high))
    return result


def subtract(allowed: Allowed, taken: Allowed) -> Allowed:
    """What `allowed` lets through and `taken` does not."""
    result: Allowed = {}
    for protocol, intervals in allowed.items():
        left = intervals
        for low, high in taken.get(protocol, []):
            left = [
                piece
                for a, b in left
                for piece in ((a, min(b, low - 1)), (max(a, high + 1), b))
                if piece[0] <= piece[1]
            ]
        if left:
            result[protocol] = left
    return result


def addresses(end: str) -> tuple[int, int] | None:
    """An address block's first and last address, or None for a pod ("namespace/name")."""
    if "/" in end and not end.replace("/", "").replace(".", "").isdigit():
        return None
    if "/" in end:
        network = ipaddress.ip_network(end)
        return int(network[0]), int(network[-1])
    first, _, last = end.partition("-")
    return int(ipaddress.ip_address(first)), int(ipaddress.ip_address(last or first))
