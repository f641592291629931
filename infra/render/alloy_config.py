"""The log collector's configuration in Alloy's syntax: the pods of its node, their log files, Loki.

Pure text from constants: Grafana Alloy (infra/render/log_collector.py) runs it
on every node. Each pod of the collector's node, each of its containers, is
found through the API (``discovery.kubernetes``), labelled with exactly the
four labels the metrics carry (``STREAM_LABELS``), and its log file under
``/var/log/pods`` is tailed (``loki.source.file``), read as the CRI writes it
(``loki.process``) and pushed to Loki (``loki.write``).

Every block and argument names its page in grafana/alloy's
``docs/sources/reference/components/`` at tag v1.18.1 (the app version of the
chart infra/render/charts.py pins; "docs" below), or its source file there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from infra.conventions import LOKI_SERVICE, MONITORING_NAMESPACE

# Where the kubelet keeps each container's log: /var/log/pods/<namespace>_<pod>_<uid>/<container>/<n>.log
# (the layout the docs' own example globs: collect/logs-in-kubernetes.md:243-251).
POD_LOGS: Final = "/var/log/pods"
LOKI_PUSH_URL: Final = (
    f"http://{LOKI_SERVICE[0]}.{MONITORING_NAMESPACE}.svc:{LOKI_SERVICE[1]}/loki/api/v1/push"
)
# The labels of every stream, each from the pod's metadata the pod role exposes
# (discovery/discovery.kubernetes.md:128-150): the names the metrics carry the same values under
# (kube-state-metrics' and cAdvisor's namespace, pod, container) and the pod's name label as "app".
STREAM_LABELS: Final = {
    "namespace": "__meta_kubernetes_namespace",
    "pod": "__meta_kubernetes_pod_name",
    "container": "__meta_kubernetes_pod_container_name",
    "app": "__meta_kubernetes_pod_label_app_kubernetes_io_name",
}
# stage.cri adds the container's stream (stdout or stderr) as a label
# (internal/component/loki/process/stages/cri.go:121); it is none of the four.
CRI_LABEL: Final = "stream"
# loki.source.file labels each entry with its file's path (internal/component/loki/source/file/
# file.go:43, tailer.go:66 at v1.18.1): none of the four either, and the pod's uid in it.
FILE_LABEL: Final = "filename"
# The chart sets HOSTNAME to the pod's node (templates/containers/_agent.yaml:35-38 at helm-chart/1.11.1).
NODE_FIELD: Final = '"spec.nodeName=" + coalesce(sys.env("HOSTNAME"), constants.hostname)'


@dataclass(frozen=True)
class Expression:
    """An Alloy expression written as it is (a reference to another component's export, a call)."""

    text: str


Value = str | bool | Expression | Sequence[str | Expression]


def _value(value: Value) -> str:
    if isinstance(value, Expression):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # Alloy's strings are Go's double-quoted literals; JSON's escapes of ASCII text are theirs.
        return json.dumps(value, ensure_ascii=True)
    return "[" + ", ".join(_value(item) for item in value) + "]"


@dataclass(frozen=True)
class Block:
    """A component (``name "label" {...}``) or an inner block (``name {...}``): attributes, then blocks."""

    name: str
    label: str | None = None
    attributes: tuple[tuple[str, Value], ...] = ()
    blocks: tuple[Block, ...] = ()
    comment: str = ""

    def lines(self, depth: int = 0) -> Iterator[str]:
        pad = "  " * depth
        for line in self.comment.splitlines():
            yield f"{pad}// {line}"
        head = f"{self.name} {_value(self.label)}" if self.label else self.name
        if not self.attributes and not self.blocks:
            yield f"{pad}{head} {{}}"
            return
        yield f"{pad}{head} {{"
        width = max((len(key) for key, _ in self.attributes), default=0)
        for key, value in self.attributes:
            yield f"{pad}  {key.ljust(width)} = {_value(value)}"
        for block in self.blocks:
            yield from block.lines(depth + 1)
        yield f"{pad}}}"


def _rule(target: str, *sources: str, **more: str) -> Block:
    """discovery.relabel's rule block (shared/reference/components/rule-block.md:13-21, 34): "replace",
    the default action, writes ``replacement`` ($1: the sources joined by ``separator``) to ``target``."""
    return Block(
        "rule", attributes=(("source_labels", list(sources)), *more.items(), ("target_label", target))
    )


def components() -> list[Block]:
    """The pipeline, in the order entries flow: discover, label, tail, parse, push."""
    label_rules = [_rule(label, source) for label, source in STREAM_LABELS.items()]
    # The file of each container: the uid picks the pod's directory, the glob its rotated files
    # (loki.source.file.md:127-147 expands __path__ as a glob once file_match is enabled).
    path_rule = _rule(
        "__path__",
        "__meta_kubernetes_pod_uid",
        "__meta_kubernetes_pod_container_name",
        separator="/",
        replacement=f"{POD_LOGS}/*$1/*.log",
    )
    return [
        Block(
            "discovery.kubernetes",
            "pods",
            (("role", "pod"),),
            # The pods of this node only (discovery.kubernetes.md:293-307, 454-473): its files are
            # the only ones it can read, and the API server sends it no other node's pods.
            (Block("selectors", attributes=(("role", "pod"), ("field", Expression(NODE_FIELD)))),),
            comment="Every container of every pod on this node (discovery.kubernetes.md:53, 77-78, 118-150).",
        ),
        Block(
            "discovery.relabel",
            "pods",
            (("targets", Expression("discovery.kubernetes.pods.targets")),),
            (*label_rules, path_rule),
            comment=(
                "The four stream labels and the file's path (discovery.relabel.md:48-72). A container\n"
                "with several ports is several targets; loki.source.file keeps one reader per path and\n"
                "labels, __-labels left out (internal/component/loki/source/file/resolver.go:42-50,\n"
                "file.go:321-327)."
            ),
        ),
        Block(
            "loki.source.file",
            "pods",
            (
                ("targets", Expression("discovery.relabel.pods.output")),
                ("forward_to", [Expression("loki.process.pods.receiver")]),
            ),
            (Block("file_match", attributes=(("enabled", True),)),),
            comment="Tails each file from its stored position (loki.source.file.md:36-49, 127-147).",
        ),
        Block(
            "loki.process",
            "pods",
            (("forward_to", [Expression("loki.write.loki.receiver")]),),
            (
                Block("stage.cri"),
                Block("stage.label_drop", attributes=(("values", [CRI_LABEL, FILE_LABEL]),)),
            ),
            comment=(
                "The CRI's line format: time, stream, flags, content; partial lines joined\n"
                "(loki.process.md:42, 118-150); its stream label and the file's dropped\n"
                "(loki.process.md:558-572)."
            ),
        ),
        Block(
            "loki.write",
            "loki",
            blocks=(Block("endpoint", attributes=(("url", LOKI_PUSH_URL),)),),
            comment="Loki's push API through its Service (loki.write.md:29-36, 65-74).",
        ),
    ]


def config() -> str:
    """The collector's whole configuration file."""
    return "\n\n".join("\n".join(block.lines()) for block in components()) + "\n"
