"""The policies' exceptions: each names one chart's release and exactly what it may do that others may not.

One so far. The log collector must read the pods' log files on its node: one host
directory (a hostPath, which ``no-host-access`` refuses) as root (which
``containers-locked-down`` refuses), since the runtime writes the files for root.
The exception names its release (namespace, release name, chart, repository: the
DaemonSet the chart names after the release), the one directory, where in the
chart's values it may sit, and what keeps it to reading: every mount of it
read-only at the same path, and root without any capability, escalation or
writable root file system. Anything else of the kind, in that release or any
other, is judged as before.

Standard library only, like the validators; the names are spelled here because
the policy package imports nothing of the program (pyproject's import contracts),
and tests/infra/policy/test_exceptions.py holds them to the program's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.policy.validators.common import ResourceArgs, _helm, _is_list, dig


@dataclass(frozen=True)
class HostLogReader:
    """A chart's DaemonSet that reads one host directory, read-only, as root without capabilities."""

    namespace: str
    release: str
    chart: str
    repository: str
    host_path: str
    # Where in the chart's values its extra volumes, the container's mounts and its context sit.
    volumes: tuple[str, ...]
    mounts: tuple[str, ...]
    context: tuple[str, ...]

    def names(self, args: ResourceArgs) -> bool:
        """Whether ``args`` is this release (and no other: another name, namespace, chart or repository)."""
        props = args.props
        return (
            _helm(args.resource_type)
            and props.get("namespace") == self.namespace
            and props.get("name") == self.release
            and props.get("chart") == self.chart
            and dig(props, "repositoryOpts", "repo") == self.repository
        )


# Grafana Alloy's chart: controller.volumes.extra, alloy.mounts.extra, alloy.securityContext
# (operations/helm/charts/alloy/values.yaml:478-480, 129-134 at helm-chart/1.11.1).
LOG_COLLECTOR = HostLogReader(
    namespace="monitoring",
    release="alloy",
    chart="alloy",
    repository="https://grafana.github.io/helm-charts",
    host_path="/var/log/pods",
    volumes=("controller", "volumes", "extra"),
    mounts=("alloy", "mounts", "extra"),
    context=("alloy", "securityContext"),
)
EXCEPTIONS: tuple[HostLogReader, ...] = (LOG_COLLECTOR,)


def _exception(args: ResourceArgs) -> HostLogReader | None:
    return next((e for e in EXCEPTIONS if e.names(args)), None)


def _values(args: ResourceArgs) -> Mapping[str, Any]:
    values = args.props.get("values")
    return values if isinstance(values, Mapping) else {}


def _list_at(values: Mapping[str, Any], keys: tuple[str, ...]) -> list[Any]:
    found = dig(values, *keys[:-1]) or {}
    items: Any = found.get(keys[-1]) if isinstance(found, Mapping) else None
    return list(items) if _is_list(items) else []


def _mounts_of(node: Any, volume: str) -> list[Mapping[str, Any]]:
    """Every mount of ``volume`` anywhere in the values (a chart's extra containers mount too)."""
    if isinstance(node, Mapping):
        own = [node] if node.get("name") == volume and "mountPath" in node else []
        return own + [m for value in node.values() for m in _mounts_of(value, volume)]
    if _is_list(node):
        return [m for value in node for m in _mounts_of(value, volume)]
    return []


def host_path_excused(args: ResourceArgs, where: str, volume: Mapping[str, Any]) -> bool:
    """Whether this hostPath volume is the one the release's exception names, every mount of it read-only.

    ``where``: the volume's place in the values as the validators write it (``values.a.b[0]``).
    """
    exception = _exception(args)
    if exception is None or set(volume) != {"name", "hostPath"}:
        return False
    listed = _list_at(_values(args), exception.volumes)
    place = "values." + ".".join(exception.volumes)
    if where not in {f"{place}[{i}]" for i in range(len(listed))}:
        return False
    host = volume["hostPath"]
    if not isinstance(host, Mapping) or dict(host) != {"path": exception.host_path, "type": "Directory"}:
        return False
    mounts = _mounts_of(_values(args), str(volume["name"]))
    return bool(mounts) and all(
        m.get("readOnly") is True and m.get("mountPath") == exception.host_path for m in mounts
    )


def root_excused(args: ResourceArgs, where: str, context: Mapping[str, Any]) -> bool:
    """Whether this is the release's container context, root with nothing else of root's power."""
    exception = _exception(args)
    if exception is None or where != "values." + ".".join(exception.context):
        return False
    capabilities = context.get("capabilities")
    return (
        context.get("readOnlyRootFilesystem") is True
        and context.get("allowPrivilegeEscalation") is False
        and context.get("privileged") is not True
        and isinstance(capabilities, Mapping)
        and list(capabilities.get("drop") or []) == ["ALL"]
        and not capabilities.get("add")
    )
